namespace Conclave.Server.OpenApi;

/// <summary>
/// A browsable reference of the REST API at <c>/api/reference/</c>, without a key: Swagger UI, whose page, scripts and
/// styles the package serves from the server itself, over <c>/openapi/v1.json</c>. Its Content-Security-Policy lets
/// the page load and call nothing but this origin.
/// </summary>
internal static class ApiReference
{
    public const string Path = "/api/reference";

    /// <summary>As the web client's, but Swagger UI sets style attributes from its script.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    public static WebApplication UseApiReference(this WebApplication app)
    {
        app.UseWhen(context => context.Request.Path.StartsWithSegments(Path), reference =>
        {
            reference.Use((context, next) =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                return next(context);
            });
            reference.UseSwaggerUI(ui =>
            {
                ui.RoutePrefix = Path.TrimStart('/');
                ui.SwaggerEndpoint("/openapi/v1.json", "Conclave v1");
                ui.DocumentTitle = "Conclave API reference";
            });
        });
        return app;
    }
}
