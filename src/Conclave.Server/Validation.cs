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

    /// <summary>For a PUT to <c>/{name}</c>: a name in the body, if given, must be the one in the path.</summary>
    public static Validation NameInBodyMatchesPath(string? bodyName, string pathName) =>
        new Validation().Require(bodyName is null || bodyName == pathName, "name", $"The body names '{bodyName}' but the path names '{pathName}'.");
}
