using System;

namespace ProcessPool.Engine
{
    /// <summary>Base of every failure the pool itself reports; callers catch this to tell pool trouble from their own.</summary>
    public class PoolException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public PoolException(string message, Exception? inner = null) : base(message, inner) { }
    }
}
