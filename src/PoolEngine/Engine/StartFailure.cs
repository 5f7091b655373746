using System;
using ProcessPool.Engine.Worker;

namespace ProcessPool.Engine
{
    /// <summary>Why a worker ended before it was ready; decides whether the pool restarts it, counts it, or breaks.</summary>
    internal enum StartFailureKind
    {
        /// <summary>The pool stopped it (shutdown, cancel): nothing to count.</summary>
        ByPool,
        /// <summary>A signal from outside (SIGKILL, SIGTERM…) the pool did not send: restarted with backoff, never breaks the pool.</summary>
        Outside,
        /// <summary>It did not finish starting within the start timeout: counts; a pool broken by it tries again on the next map.</summary>
        TimedOut,
        /// <summary>A cause in the setup (the initializer threw, the handshake is wrong, the worker's setup-failure exit code): counts and breaks for good.</summary>
        Setup,
        /// <summary>It exited or crashed on its own before its hello: counts; a pool broken by it tries again on the next map.</summary>
        Transient,
    }

    /// <summary>Classifies how a starting worker ended, and which signals are taken to come from outside.</summary>
    internal static class StartFailure
    {
        public static StartFailureKind Classify(KillReason kill, Exception? failure, int? exitCode, int? signal)
        {
            if (kill == KillReason.Terminated || kill == KillReason.Cancelled) return StartFailureKind.ByPool;
            if (kill == KillReason.StartTimeout) return StartFailureKind.TimedOut;
            if (failure is WorkerSetupFailure) return StartFailureKind.Setup;
            if (failure is ProtocolException { StreamEnded: false }) return StartFailureKind.Setup; // not a worker, or another version
            if (kill == KillReason.None && IsOutsideSignal(signal)) return StartFailureKind.Outside;
            if (signal == null && exitCode == ExitCodes.SetupFailed) return StartFailureKind.Setup;
            return StartFailureKind.Transient;
        }

        /// <summary>
        /// SIGHUP, SIGINT, SIGQUIT, SIGKILL, SIGTERM: the signals a user, a supervisor or the kernel's OOM killer sends.
        /// Crash signals (SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL) come from the process itself.
        /// </summary>
        public static bool IsOutsideSignal(int? signal) => signal is 1 or 2 or 3 or 9 or 15;
    }
}
