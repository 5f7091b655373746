using System;
using System.Text.Json;

namespace ProcessPool.Engine.Methods
{
    /// <summary>A map that runs a static .NET method per item: the assembly and the method as <c>Namespace.Type::Method</c>.</summary>
    public sealed class MethodPayload
    {
        /// <summary>The payload kind name on the wire.</summary>
        public const string Kind = "method";

        /// <summary>Path of the assembly that holds the method.</summary>
        public string AssemblyPath { get; set; } = "";

        /// <summary>The method, as <c>Namespace.Type::Method</c>.</summary>
        public string Method { get; set; } = "";

        /// <summary>
        /// When true, each item is spread over the method's parameters (like <c>starmap</c>): a JSON array by position,
        /// a JSON object by parameter name; otherwise a method with one parameter takes the item whole, and a method
        /// with several spreads it anyway.
        /// </summary>
        public bool Spread { get; set; }

        /// <summary>Creates a payload.</summary>
        public static MethodPayload For(string assemblyPath, string method) =>
            new MethodPayload { AssemblyPath = System.IO.Path.GetFullPath(assemblyPath), Method = method };

        /// <summary>Encodes the payload for <see cref="MapOptions.PayloadDefinition"/>.</summary>
        /// <remarks>Written and read with the JSON reader and writer, not the serializer: the serializer's first use costs
        /// 15–20 ms of reflection and JIT, on the path from a cold pool to its first result, in the caller and in every worker.</remarks>
        public byte[] Encode()
        {
            using var buffer = new System.IO.MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString(nameof(AssemblyPath), AssemblyPath);
                writer.WriteString(nameof(Method), Method);
                writer.WriteBoolean(nameof(Spread), Spread);
                writer.WriteEndObject();
            }
            return buffer.ToArray();
        }

        internal static MethodPayload Decode(byte[] data)
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new ArgumentException("The method payload is not a JSON object.");
            var payload = new MethodPayload();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString() ?? "";
                reader.Read();
                if (name.Equals(nameof(AssemblyPath), StringComparison.OrdinalIgnoreCase)) payload.AssemblyPath = reader.GetString() ?? "";
                else if (name.Equals(nameof(Method), StringComparison.OrdinalIgnoreCase)) payload.Method = reader.GetString() ?? "";
                else if (name.Equals(nameof(Spread), StringComparison.OrdinalIgnoreCase)) payload.Spread = reader.GetBoolean();
                else reader.Skip();
            }
            return payload;
        }
    }
}
