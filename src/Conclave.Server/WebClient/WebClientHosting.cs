namespace Conclave.Server.WebClient;

/// <summary>
/// Serves the web chat client, built into the web root (<c>wwwroot</c> beside the binary), at <c>/</c>: static files
/// only, with a strict Content-Security-Policy, so that nothing but the bundled script runs on the page.
/// </summary>
internal static class WebClientHosting
{
    /// <summary>Scripts, styles and connections from this origin only; no inline script, no framing, no plugins.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    public static WebApplication UseWebClient(this WebApplication app)
    {
        var files = app.Environment.WebRootFileProvider;
        if (!files.GetFileInfo("index.html").Exists)
        {
            // Built with -p:BuildWebClient=false, or npm failed: say so rather than answer a bare 404.
            app.MapGet("/", () => TypedResults.Problem(
                    "The web client is not built. Build the server with npm on the PATH (dotnet build builds web/ into wwwroot/), " +
                    "or build it by hand: cd web && npm ci && npm run build.",
                    statusCode: StatusCodes.Status404NotFound,
                    title: "Not Found"))
                .ExcludeFromDescription();
            return app;
        }

        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                // File names do not change between versions: the browser asks again each time (a 304 when unchanged).
                headers.CacheControl = "no-cache";
            },
        });
        return app;
    }
}
