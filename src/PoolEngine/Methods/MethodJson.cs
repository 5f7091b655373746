using System.Text.Json;

namespace ProcessPool.Engine.Methods
{
    /// <summary>The one set of System.Text.Json options both sides use for method items and results, so what the parent encodes the worker decodes.</summary>
    public static class MethodJson
    {
        /// <summary>Default System.Text.Json behaviour, plus public fields (common in compiled value types).</summary>
        public static JsonSerializerOptions Options { get; } = new JsonSerializerOptions { IncludeFields = true };

        /// <summary>Encodes a value as a method item.</summary>
        public static byte[] Encode<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

        /// <summary>Decodes a method result.</summary>
        public static T? Decode<T>(byte[] data) => JsonSerializer.Deserialize<T>(data, Options);
    }
}
