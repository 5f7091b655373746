using System;

namespace ProcessPool.Engine
{
    /// <summary>An item ran longer than the per-item timeout; its worker was killed and replaced.</summary>
    public sealed class ItemTimeoutException : PoolException
    {
        /// <summary>Creates the exception.</summary>
        public ItemTimeoutException(string message, TimeSpan timeout) : base(message) => Timeout = timeout;

        /// <summary>The limit the item exceeded.</summary>
        public TimeSpan Timeout { get; }
    }
}
