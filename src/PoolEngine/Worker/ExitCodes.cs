namespace ProcessPool.Engine.Worker
{
    /// <summary>Exit codes a worker uses for its own reasons, so the parent can tell them from user code's.</summary>
    internal static class ExitCodes
    {
        /// <summary>The parent closed the protocol stream or died.</summary>
        public const int ParentGone = 3;

        /// <summary>The pool's per-worker setup (initializer) failed; the reason went to the parent first.</summary>
        public const int SetupFailed = 4;

        /// <summary>A fault in the worker's own machinery (not in user code); the reason went to stderr.</summary>
        public const int WorkerFault = 5;
    }
}
