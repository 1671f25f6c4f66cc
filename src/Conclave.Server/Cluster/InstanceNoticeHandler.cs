using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Conclave.Cluster.Redis;
using Conclave.Server.Auth;
using Conclave.Server.Chat;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Cluster;

/// <summary>
/// What an instance does about a revoked key or a deleted session, whether the request came to it or to another
/// instance: the same steps, on its own sockets, key cache, runs and workspaces.
/// </summary>
internal sealed class InstanceNoticeHandler(
    ApiKeyRegistry keys, RunCoordinator runs, ChatConnectionRegistry sockets, EventWriter events, IOptions<AgentOptions> agent)
    : IInstanceNoticeHandler
{
    public async Task HandleAsync(InstanceNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        switch (notice.Kind)
        {
            case InstanceNotice.KeyRevoked:
                // Its cached identity goes and its sockets close; its runs end (error cancelled) and its tenant starts no more.
                keys.OnRevoked(notice.Subject);
                await runs.CloseTenantAsync(Caller.TenantOfKey(notice.Subject, isAdmin: false));
                break;

            case InstanceNotice.SessionDeleted:
                // Its run stops and its sockets close after sending what they had; every event of it is stored (and so
                // marked in the journal, which then restores nothing of it), and its workspace here goes.
                await runs.StopSessionAsync(notice.Subject);
                await sockets.CloseSessionAsync(notice.Subject);
                await events.FlushAsync();
                var workspace = Path.Combine(agent.Value.WorkspacesPath, notice.Subject);
                if (Directory.Exists(workspace))
                {
                    Directory.Delete(workspace, recursive: true);
                }

                break;
        }
    }
}
