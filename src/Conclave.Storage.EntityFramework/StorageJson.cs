using System.Text.Json.Serialization;

namespace Conclave.Storage.EntityFramework;

/// <summary>The JSON the stores write into text columns of their own (not the model's primitive collections).</summary>
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class StorageJson : JsonSerializerContext;
