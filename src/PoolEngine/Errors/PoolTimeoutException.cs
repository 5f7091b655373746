using System;

namespace ProcessPool.Engine
{
    /// <summary>A whole map ran past its run timeout and was stopped.</summary>
    public sealed class PoolTimeoutException : PoolException
    {
        /// <summary>Creates the exception.</summary>
        public PoolTimeoutException(string message, TimeSpan timeout) : base(message) => Timeout = timeout;

        /// <summary>The limit the run exceeded.</summary>
        public TimeSpan Timeout { get; }
    }
}
