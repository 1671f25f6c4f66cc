using System.ComponentModel;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Tools;

/// <summary>
/// The <c>http_get</c> tool. Its HTTP client connects only to public addresses: each connection
/// (redirects included) resolves the host, refuses it if any address is not public, and connects to
/// the address it checked, so a second lookup cannot swap in another.
/// </summary>
public sealed class HttpGetTool
{
    /// <summary>The name of the tool's HttpClient.</summary>
    public const string HttpClientName = "conclave-http-get";

    private readonly IHttpClientFactory _clients;
    private readonly HttpGetOptions _options;

    /// <summary>Creates the tool.</summary>
    public HttpGetTool(IHttpClientFactory clients, IOptions<ToolOptions> options)
    {
        _clients = clients;
        _options = options.Value.HttpGet;
    }

    /// <summary>Fetches a URL.</summary>
    [Description("Fetches a web page or file over HTTP(S) with GET and returns its status and text.")]
    public async Task<string> GetAsync(
        [Description("The absolute http or https URL.")] string url,
        CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new ToolException($"'{url}' is not an absolute http or https URL.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
        try
        {
            var client = _clients.CreateClient(HttpClientName);
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (IsRedirect(response))
            {
                // The handler hands back the redirect it stopped at: the page was never reached.
                throw new ToolException(_options.MaxRedirects == 0
                    ? $"{uri} redirects to {response.Headers.Location}, and redirects are not followed (Conclave:Tools:HttpGet:MaxRedirects is 0)."
                    : $"A redirect (HTTP {(int)response.StatusCode} to {response.Headers.Location}) was not followed: it came after "
                      + $"{_options.MaxRedirects} redirects (Conclave:Tools:HttpGet:MaxRedirects), or leads from https to http.");
            }

            var body = await ReadCappedAsync(response.Content, timeout.Token);
            return $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}\n{body}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ToolException($"Fetching {uri} took longer than {_options.TimeoutSeconds} s.");
        }
        catch (HttpRequestException ex)
        {
            throw new ToolException(ex.InnerException is ToolException refused ? refused.Message : $"Fetching {uri} failed: {ex.Message}");
        }
    }

    /// <summary>The handler behind the tool's HttpClient.</summary>
    public static SocketsHttpHandler CreateHandler(HttpGetOptions options) => new()
    {
        AllowAutoRedirect = options.MaxRedirects > 0,
        MaxAutomaticRedirections = Math.Max(1, options.MaxRedirects),
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.All,
        ConnectTimeout = TimeSpan.FromSeconds(Math.Min(10, options.TimeoutSeconds)),
        ConnectCallback = (context, cancellationToken) => PublicAddresses.ConnectAsync(
            context, options.AllowedHosts, "http_get only fetches from the public internet", cancellationToken),
    };

    private static bool IsRedirect(HttpResponseMessage response) =>
        (int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is not null;

    private async Task<string> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[_options.MaxBytes];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                return Encoding.UTF8.GetString(buffer, 0, read);
            }

            read += n;
        }

        var more = await stream.ReadAsync(new byte[1], cancellationToken) > 0;
        return more ? $"{Utf8Text.DecodeCut(buffer.AsSpan(0, read))}\n[truncated at {_options.MaxBytes} bytes]" : Encoding.UTF8.GetString(buffer, 0, read);
    }
}
