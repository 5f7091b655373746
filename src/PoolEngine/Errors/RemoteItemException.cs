namespace ProcessPool.Engine
{
    /// <summary>User code inside a worker threw for one item; carries the remote exception's type, message and stack.</summary>
    public sealed class RemoteItemException : PoolException
    {
        /// <summary>Creates the exception from what the worker reported.</summary>
        public RemoteItemException(string remoteType, string remoteMessage, string? remoteStackTrace, byte[]? detail)
            : base($"{remoteType}: {remoteMessage}")
        {
            RemoteType = remoteType;
            RemoteMessage = remoteMessage;
            RemoteStackTrace = remoteStackTrace;
            _detail = detail;
        }

        /// <summary>Full name of the exception type thrown in the worker.</summary>
        public string RemoteType { get; }

        /// <summary>The remote exception's message.</summary>
        public string RemoteMessage { get; }

        /// <summary>The remote stack trace, when the worker had one.</summary>
        public string? RemoteStackTrace { get; }

        private readonly byte[]? _detail;

        /// <summary>
        /// Runner-specific detail (for script blocks, the serialized ErrorRecord); opaque to the engine. A method, not a
        /// property, so views that list an exception's properties (Get-Error, Format-List *) never print a raw buffer.
        /// </summary>
        public byte[]? GetDetail() => _detail;

        /// <inheritdoc />
        public override string? StackTrace => RemoteStackTrace ?? base.StackTrace;
    }
}
