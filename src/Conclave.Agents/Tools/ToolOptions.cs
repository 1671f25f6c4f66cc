using System.ComponentModel.DataAnnotations;

namespace Conclave.Agents.Tools;

/// <summary>Limits of the built-in tools (<c>Conclave:Tools</c>).</summary>
public sealed class ToolOptions
{
    /// <summary>The most bytes <c>read_file</c> returns.</summary>
    [Range(1, 64 * 1024 * 1024)]
    public int MaxReadBytes { get; set; } = 256 * 1024;

    /// <summary>The most bytes <c>write_file</c> writes.</summary>
    [Range(1, 64 * 1024 * 1024)]
    public int MaxWriteBytes { get; set; } = 1024 * 1024;

    /// <summary>The most entries <c>list_files</c> returns.</summary>
    [Range(1, 100_000)]
    public int MaxListEntries { get; set; } = 500;

    /// <summary>Settings of <c>http_get</c>.</summary>
    public HttpGetOptions HttpGet { get; set; } = new();
}

/// <summary>Settings of <c>http_get</c> (<c>Conclave:Tools:HttpGet</c>).</summary>
public sealed class HttpGetOptions
{
    /// <summary>The most bytes of a response body returned; the rest is cut off.</summary>
    [Range(1, 64 * 1024 * 1024)]
    public int MaxBytes { get; set; } = 512 * 1024;

    /// <summary>How long one fetch may take.</summary>
    [Range(1, 600)]
    public int TimeoutSeconds { get; set; } = 20;

    /// <summary>The most redirects followed.</summary>
    [Range(0, 20)]
    public int MaxRedirects { get; set; } = 5;

    /// <summary>
    /// Hosts that may be fetched even though they resolve to loopback or private addresses (for a service on the
    /// operator's own network): <c>name</c> or <c>address</c> allows every port of it, <c>name:port</c> (or
    /// <c>[v6 address]:port</c>) only that port. Empty by default.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];
}
