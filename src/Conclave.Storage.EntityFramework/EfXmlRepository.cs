using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Storage.EntityFramework;

/// <summary>
/// The Data Protection key ring in the database (<c>secret_keys</c>), so that every instance on it reads the keys
/// another made and decrypts what another encrypted.
/// </summary>
internal sealed class EfXmlRepository(IDbContextFactory<ConclaveDbContext> contexts) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        // The interface is synchronous; a read does not take the write gate, so it holds no thread waiting for one.
        using var db = contexts.CreateDbContext();
        var rows = db.SecretKeys.AsNoTracking().OrderBy(k => k.Id).Select(k => k.Xml).ToList();
        return rows.ConvertAll(xml => XElement.Parse(xml, LoadOptions.PreserveWhitespace));
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var db = contexts.CreateDbContext();
        var xml = element.ToString(SaveOptions.DisableFormatting);

        // Names are unique (key-{id}, revocation-{id}); storing one again replaces it, as the registry repository does.
        var row = db.SecretKeys.FirstOrDefault(k => k.FriendlyName == friendlyName);
        if (row is null)
        {
            db.SecretKeys.Add(new SecretKeyEntity { FriendlyName = friendlyName, Xml = xml });
        }
        else
        {
            row.Xml = xml;
        }

        // The interface is synchronous and a synchronous save is refused (it would wait for the write gate holding a
        // thread): blocking on the async save is the lesser cost here, as this runs once when the ring is first used
        // and then once per key lifetime (90 days).
        db.SaveChangesAsync().GetAwaiter().GetResult();
    }
}
