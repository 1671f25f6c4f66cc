using System.Text.Json;
using System.Text.Json.Serialization;
using Conclave.Agents.Runs;
using StackExchange.Redis;

namespace Conclave.Cluster.Redis;

/// <summary>What a control request asks the instance running a run to do.</summary>
internal enum ControlKind
{
    Cancel,
    Answer,
    Stop,
    Notice,
}

/// <summary>
/// A control request between instances: a <c>cancel</c>, or an answer to a pending request, for a session's run; or a
/// notice every instance acts on (its kind in <see cref="NoticeKind"/>, its subject in <see cref="SessionId"/>).
/// </summary>
internal sealed record ControlRequest(
    ControlKind Kind,
    string SessionId,
    string? RunId = null,
    string? RequestId = null,
    RequestKind? RequestKind = null,
    bool Approved = false,
    string? Content = null,
    string? NoticeKind = null,
    StopReason? Reason = null)
{
    public Guid Id { get; init; }

    public Guid From { get; init; }
}

/// <summary>The reply of an instance to a control request: whether it carried it out.</summary>
internal sealed record ControlReply(Guid Id, bool Done);

/// <summary>Control requests and replies as JSON on their channels.</summary>
internal static class ControlCodec
{
    public static RedisValue EncodeRequest(ControlRequest request) =>
        JsonSerializer.SerializeToUtf8Bytes(request, ControlJsonContext.Default.ControlRequest);

    public static bool TryDecodeRequest(RedisValue message, out ControlRequest request)
    {
        request = null!;
        try
        {
            request = JsonSerializer.Deserialize((byte[])message!, ControlJsonContext.Default.ControlRequest)!;
            return request is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static RedisValue EncodeReply(Guid id, bool done) =>
        JsonSerializer.SerializeToUtf8Bytes(new ControlReply(id, done), ControlJsonContext.Default.ControlReply);

    public static bool TryDecodeReply(RedisValue message, out Guid id, out bool done)
    {
        (id, done) = (Guid.Empty, false);
        try
        {
            if (JsonSerializer.Deserialize((byte[])message!, ControlJsonContext.Default.ControlReply) is { } reply)
            {
                (id, done) = (reply.Id, reply.Done);
                return true;
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }
}

[JsonSourceGenerationOptions(UseStringEnumConverter = true)]
[JsonSerializable(typeof(ControlRequest))]
[JsonSerializable(typeof(ControlReply))]
internal sealed partial class ControlJsonContext : JsonSerializerContext;
