namespace ProcessPool.Engine
{
    /// <summary>An item failed because the worker running it died, every time it was tried alone (a poison item).</summary>
    public sealed class WorkerTerminatedException : PoolItemException
    {
        /// <summary>Creates the exception with a message that names no item.</summary>
        public WorkerTerminatedException(string message, int? exitCode, int? signal) : base(message)
        {
            ExitCode = exitCode;
            Signal = signal;
        }

        /// <summary>Creates the exception for the item at <paramref name="sequence"/> (from 0); <paramref name="rest"/> follows its name in the message.</summary>
        public WorkerTerminatedException(long sequence, string rest, int? exitCode, int? signal) : base(sequence, rest)
        {
            ExitCode = exitCode;
            Signal = signal;
        }

        /// <summary>The worker's exit code, when it exited by itself.</summary>
        public int? ExitCode { get; }

        /// <summary>The signal that ended the worker, on Unix, when it was killed by one.</summary>
        public int? Signal { get; }
    }
}
