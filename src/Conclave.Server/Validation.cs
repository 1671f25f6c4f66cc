namespace Conclave.Server;

/// <summary>Collects what is wrong with a request body, field by field, for a 400 problem.</summary>
internal sealed class Validation
{
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    public bool IsValid => _errors.Count == 0;

    public IDictionary<string, string[]> Errors => _errors;

    public Validation Add(string field, string message)
    {
        _errors[field] = _errors.TryGetValue(field, out var existing) ? [.. existing, message] : [message];
        return this;
    }

    public Validation Require(bool condition, string field, string message) => condition ? this : Add(field, message);
}
