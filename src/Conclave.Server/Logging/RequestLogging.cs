using System.Diagnostics;

namespace Conclave.Server.Logging;

/// <summary>
/// One log line per request with the path but never the query string, which may hold <c>api_key</c>; an accepted
/// WebSocket upgrade is left to the socket's own lines (see <c>ChatSocketEndpoint</c>).
/// It replaces ASP.NET Core's own request logging, which prints the whole URL and is switched off.
/// </summary>
internal static partial class RequestLogging
{
    /// <summary>The category of ASP.NET Core's request lines, which include the query string.</summary>
    public const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    public static IApplicationBuilder UseRequestLogging(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Conclave.Requests");
        return app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                // An accepted chat socket has lines of its own, on opening and on closing, with how long it was open.
                if (context.Response.StatusCode != StatusCodes.Status101SwitchingProtocols)
                {
                    LogRequest(logger, context.Request.Method, context.Request.Path, context.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP {Method} {Path} responded {StatusCode} in {ElapsedMs:0.0} ms")]
    private static partial void LogRequest(ILogger logger, string method, PathString path, int statusCode, double elapsedMs);
}
