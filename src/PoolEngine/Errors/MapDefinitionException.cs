namespace ProcessPool.Engine
{
    /// <summary>A worker could not prepare the map's payload (missing assembly, type or method, an ambiguous overload, a script that does not parse); the whole map fails early.</summary>
    public sealed class MapDefinitionException : PoolException
    {
        /// <summary>Creates the exception.</summary>
        public MapDefinitionException(string message, string? remoteType = null) : base(message) => RemoteType = remoteType;

        /// <summary>Type of the error raised in the worker, when known.</summary>
        public string? RemoteType { get; }
    }
}
