using Conclave.Server;
using Conclave.Server.Auth;
using Conclave.Server.Options;
using Microsoft.AspNetCore.Connections;

// Settings come from the appsettings.json beside the binary; relative paths such as the default
// Conclave:DataDir (./data) are taken from the folder the server was started in.
var resetAdminKey = args.Contains(AdminKeyReset.Argument);
try
{
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions
    {
        Args = [.. args.Where(a => a != AdminKeyReset.Argument)],
        ContentRootPath = AppContext.BaseDirectory,
    });
    builder.AddConclaveServer();

    await using var app = builder.Build();
    app.ValidateSettings();
    if (resetAdminKey)
    {
        return await app.ResetAdminKeyAsync(Console.Out, Console.Error);
    }

    app.UseConclaveServer();
    var started = app.Lifetime.ApplicationStarted;
    try
    {
        await app.RunAsync();
    }
    catch (Exception e) when (!started.IsCancellationRequested)
    {
        // The host does not log a failed start (ConclaveServer filters it): what an operator can fix is said in a line,
        // anything else in full.
        await Console.Error.WriteLineAsync(e is IOException { InnerException: AddressInUseException }
            ? $"conclave: {e.Message} Stop what listens there, or give another address with --urls or ASPNETCORE_URLS."
            : $"conclave: the server could not start: {e}");
        return 1;
    }

    return 0;
}
catch (SettingsException e)
{
    foreach (var problem in e.Problems)
    {
        await Console.Error.WriteLineAsync($"conclave: {problem}");
    }

    return 2;
}
