using Conclave.Server;

// Settings come from the appsettings.json beside the binary; relative paths such as the default
// Conclave:DataDir (./data) are taken from the folder the server was started in.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddConclaveServer();

var app = builder.Build();
app.UseConclaveServer();
await app.RunAsync();
