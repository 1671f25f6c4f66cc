namespace Conclave.Agents.Tests;

public sealed class SortableIdsTests
{
    [Fact]
    public void IdsMadeInTheSameMillisecondSortInTheOrderTheyWereMade()
    {
        // Ten thousand ids take well under a second, so most share a millisecond with another: with Guid.CreateVersion7
        // alone, their order within it would be random.
        var ids = Enumerable.Range(0, 10_000).Select(_ => SortableIds.New()).ToList();

        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void AnIdIsAVersion7UuidAs32HexDigitsAfterItsPrefix()
    {
        var id = SortableIds.New("run_");

        Assert.StartsWith("run_", id);
        var guid = Guid.ParseExact(id["run_".Length..], "N");
        Assert.Equal(7, guid.Version);
    }
}
