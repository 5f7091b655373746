using System;
using System.Text.Json;

namespace ProcessPool.Engine.Methods
{
    /// <summary>Per-worker setup for method pools: an initializer run once when a worker starts and a finalizer run when it shuts down cleanly.</summary>
    public sealed class MethodSetup
    {
        /// <summary>Assembly that holds the initializer and finalizer.</summary>
        public string AssemblyPath { get; set; } = "";

        /// <summary>Initializer as <c>Namespace.Type::Method</c>, or null.</summary>
        public string? Initializer { get; set; }

        /// <summary>Arguments for the initializer, as a JSON array spread over its parameters.</summary>
        public string? InitializerArguments { get; set; }

        /// <summary>Finalizer as <c>Namespace.Type::Method</c>, or null.</summary>
        public string? Finalizer { get; set; }

        /// <summary>Arguments for the finalizer, as a JSON array.</summary>
        public string? FinalizerArguments { get; set; }

        /// <summary>Encodes the setup for <see cref="PoolOptions.RunnerSetup"/>.</summary>
        public byte[] Encode()
        {
            if (AssemblyPath.Length > 0) AssemblyPath = System.IO.Path.GetFullPath(AssemblyPath);
            return JsonSerializer.SerializeToUtf8Bytes(this, MethodJson.Options);
        }

        internal static MethodSetup Decode(byte[] data) =>
            JsonSerializer.Deserialize<MethodSetup>(data, MethodJson.Options) ?? throw new ArgumentException("Empty method setup.");
    }
}
