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
        public byte[] Encode() => JsonSerializer.SerializeToUtf8Bytes(this, MethodJson.Options);

        internal static MethodPayload Decode(byte[] data) =>
            JsonSerializer.Deserialize<MethodPayload>(data, MethodJson.Options) ?? throw new ArgumentException("Empty method payload.");
    }
}
