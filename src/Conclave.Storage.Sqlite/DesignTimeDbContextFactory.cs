using Conclave.Storage.EntityFramework;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Conclave.Storage.Sqlite;

/// <summary>Lets <c>dotnet ef migrations add</c> build the context without starting the server.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<ConclaveDbContext>
{
    public ConclaveDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<ConclaveDbContext>().UseSqlite("Data Source=design-time.db", SqliteStorage.UseMigrations).Options);
}
