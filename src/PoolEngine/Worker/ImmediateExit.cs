using System;
using System.Runtime.InteropServices;

namespace ProcessPool.Engine.Worker
{
    /// <summary>
    /// Ends the worker process without the runtime's shutdown, for a host that would write shared state on its way out
    /// when nothing could switch that off before the process started (a remote PowerShell worker rewrites PowerShell's
    /// start-up profile). Descendants are killed first, as <see cref="WorkerTree"/>'s exit handler would. Linux and macOS.
    /// </summary>
    internal static class ImmediateExit
    {
        /// <summary>False on Windows, where the runtime's shutdown stays.</summary>
        public static bool IsSupported { get; } = !RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        /// <summary>Kills the descendants and ends the process with <paramref name="code"/>; does not return.</summary>
        public static void Now(int code)
        {
            WorkerTree.KillDescendants();
            try
            {
                Native.Exit(code);
            }
            catch (Exception error) when (error is DllNotFoundException || error is EntryPointNotFoundException)
            {
                Environment.Exit(code); // no libc to call: the runtime's own way out
            }
        }

        private static class Native
        {
            [DllImport("libc", EntryPoint = "_exit")] public static extern void Exit(int code);
        }
    }
}
