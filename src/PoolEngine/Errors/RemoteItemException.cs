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
            Detail = detail;
        }

        /// <summary>Full name of the exception type thrown in the worker.</summary>
        public string RemoteType { get; }

        /// <summary>The remote exception's message.</summary>
        public string RemoteMessage { get; }

        /// <summary>The remote stack trace, when the worker had one.</summary>
        public string? RemoteStackTrace { get; }

        /// <summary>Runner-specific detail (for script blocks, the serialized ErrorRecord); opaque to the engine.</summary>
        public byte[]? Detail { get; }

        /// <inheritdoc />
        public override string? StackTrace => RemoteStackTrace ?? base.StackTrace;
    }
}
