using Conclave.Server;

var builder = WebApplication.CreateBuilder(args);
builder.AddConclaveServer();

var app = builder.Build();
app.UseConclaveServer();
await app.RunAsync();
