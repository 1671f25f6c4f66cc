using Conclave.Storage.EntityFramework;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Conclave.Storage.Postgres;

/// <summary>Lets <c>dotnet ef migrations add</c> build the context without a database (it only reads the model).</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<ConclaveDbContext>
{
    public ConclaveDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<ConclaveDbContext>().UseNpgsql("Host=localhost;Database=design_time", PostgresStorage.UseMigrations).Options);
}
