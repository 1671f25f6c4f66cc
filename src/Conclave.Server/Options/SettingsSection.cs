namespace Conclave.Server.Options;

/// <summary>An options type bound at a configuration section, such as <c>TeamOptions</c> at <c>Conclave:Teams</c>.</summary>
/// <param name="Path">The section, e.g. <c>Conclave:Teams</c>.</param>
/// <param name="Type">The options type bound there.</param>
/// <param name="ServerSet">Its properties the server sets itself, which are therefore not settings.</param>
internal sealed record SettingsSection(string Path, Type Type, IReadOnlyList<string> ServerSet);

/// <summary>Settings that cannot work: each problem is one line that names its setting.</summary>
internal sealed class SettingsException(IReadOnlyList<string> problems) : Exception(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
