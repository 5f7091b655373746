using System;
using System.Text.Json;

namespace ProcessPool.Engine.Methods
{
    /// <summary>
    /// The codec of method items and results, one set of rules for both sides, so what the parent encodes the worker
    /// decodes. Values travel as System.Text.Json text, except <see cref="long"/>, <see cref="int"/>,
    /// <see cref="double"/>, <see cref="bool"/> and <see cref="string"/>, which travel in a binary form (a tag byte and
    /// the value). A worker answers a binary item with a binary result when the result has that form, and a JSON item
    /// with JSON, so callers that read results as JSON text keep sending JSON.
    /// </summary>
    public static class MethodJson
    {
        /// <summary>Default System.Text.Json behaviour, plus public fields (common in compiled value types).</summary>
        /// <remarks>The resolver is set here because <see cref="JsonSerializerOptions.GetTypeInfo"/> refuses options that have none, and
        /// nothing else may have used them first.</remarks>
        public static JsonSerializerOptions Options { get; } = new JsonSerializerOptions
        {
            IncludeFields = true,
            TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        };

        /// <summary>Encodes a value as a method item: binary for the primitives listed on the class, JSON otherwise.</summary>
        public static byte[] Encode<T>(T value) =>
            MethodPrimitives.TryEncode(value, out var data) ? data : JsonSerializer.SerializeToUtf8Bytes(value, Options);

        /// <summary>Decodes a method result (or item), in either form.</summary>
        public static T? Decode<T>(byte[] data) => Decode<T>(new ReadOnlySpan<byte>(data));

        /// <summary>Decodes a method result (or item), in either form.</summary>
        public static T? Decode<T>(ReadOnlySpan<byte> data)
        {
            if (!MethodPrimitives.IsBinary(data)) return JsonSerializer.Deserialize<T>(data, Options);
            if (MethodPrimitives.TryDecode(data, out T value)) return value;
            return JsonSerializer.Deserialize<T>(MethodPrimitives.ToJson(data), Options);
        }
    }
}
