using System;
using System.Diagnostics;
using System.Threading;

namespace ProcessPool.Engine.Worker
{
    /// <summary>
    /// Ends the worker when its parent process is gone, even while an item is busy and nobody reads stdin.
    /// Stdin closing is the first signal; this covers a parent that dies while a grandchild holds the pipe.
    /// </summary>
    internal static class ParentWatch
    {
        /// <summary>Environment variable through which the pool tells a local worker its parent's pid.</summary>
        public const string ParentPidVariable = "PROCESSPOOL_PARENT_PID";

        public static void Start(Action onParentGone)
        {
            string? text = Environment.GetEnvironmentVariable(ParentPidVariable);
            if (!int.TryParse(text, out int parentPid) || parentPid <= 0) return;
            Process parent;
            try { parent = Process.GetProcessById(parentPid); }
            catch (ArgumentException) { onParentGone(); return; }
            var thread = new Thread(() =>
            {
                while (true)
                {
                    Thread.Sleep(500);
                    bool gone;
                    try { parent.Refresh(); gone = parent.HasExited; }
                    catch (InvalidOperationException) { gone = true; }
                    catch (System.ComponentModel.Win32Exception) { gone = false; }
                    if (gone) { onParentGone(); return; }
                }
            }) { IsBackground = true, Name = "ProcessPool parent watch" };
            thread.Start();
        }
    }
}
