namespace ProcessPool.Engine
{
    /// <summary>Work was submitted to a pool that is closing, closed or terminated.</summary>
    public sealed class PoolClosedException : PoolException
    {
        /// <summary>Creates the exception.</summary>
        public PoolClosedException(string message) : base(message) { }
    }
}
