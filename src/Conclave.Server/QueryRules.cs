namespace Conclave.Server;

/// <summary>
/// What an endpoint's query values must be, in words ("limit must be a whole number from 1 to 200"), as the endpoint's
/// metadata: a value that does not parse gets a 400 problem that says so (<see cref="BadRequestHandler"/>), in the
/// words the endpoint uses for a value it refuses.
/// </summary>
internal sealed class QueryRules(params (string Name, string Rule)[] rules)
{
    private readonly Dictionary<string, string> _rules = rules.ToDictionary(r => r.Name, r => r.Rule, StringComparer.OrdinalIgnoreCase);

    public string? Find(string name) => _rules.GetValueOrDefault(name);

    /// <summary>The problem's detail for a value that breaks a rule.</summary>
    public static string Refusal(string rule, object? value) => $"{rule}; '{value}' is not.";
}
