using System;

namespace ProcessPool.Engine
{
    /// <summary>An item ran longer than the per-item timeout; its worker was killed and replaced.</summary>
    public sealed class ItemTimeoutException : PoolItemException
    {
        /// <summary>Creates the exception with a message that names no item.</summary>
        public ItemTimeoutException(string message, TimeSpan timeout) : base(message) => Timeout = timeout;

        /// <summary>Creates the exception for the item at <paramref name="sequence"/> (from 0); <paramref name="rest"/> follows its name in the message.</summary>
        public ItemTimeoutException(long sequence, string rest, TimeSpan timeout) : base(sequence, rest) => Timeout = timeout;

        /// <summary>The limit the item exceeded.</summary>
        public TimeSpan Timeout { get; }
    }
}
