using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;

namespace ProcessPool.Engine.Worker
{
    /// <summary>
    /// The worker's side of "a worker's whole process tree ends with it". On Unix the worker makes itself the leader of a
    /// new session (and so of a process group) before it runs anything: every process an item starts joins the group
    /// and stays in it after its own parent exits, and no terminal signal meant for the caller's foreground job reaches
    /// it. Whenever the worker exits by itself (Shutdown, stdin closed, parent gone, <c>exit</c> or
    /// <c>[Environment]::Exit</c> in user code, SIGTERM) it first kills its descendants: the members of its group and
    /// any process whose parent chain leads to it. When it is killed outright, the parent ends the group
    /// (<see cref="ProcessTree.KillOrphanedGroup"/>). A descendant that deliberately starts a session of its own
    /// (<c>setsid</c>, a daemon) and whose parent already exited is out of reach of both.
    /// On Windows the parent's job object covers every path (<see cref="KillOnCloseJob"/>); nothing is needed here.
    /// </summary>
    internal static class WorkerTree
    {
        private static int _owned;
        private static int _self;

        /// <summary>Makes this process the leader of its own session and process group and kills its descendants when it exits. Once per process.</summary>
        public static void Own()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return;
            if (Interlocked.Exchange(ref _owned, 1) == 1) return;
            _self = Process.GetCurrentProcess().Id;
            try
            {
                // setsid fails only for a process that already leads a group; then the group it leads is its own.
                if (Unix.setsid() < 0) Unix.setpgid(0, 0);
            }
            catch (Exception error) when (error is DllNotFoundException || error is EntryPointNotFoundException)
            {
                return;
            }
            AppDomain.CurrentDomain.ProcessExit += (_, _) => KillDescendants();
        }

        /// <summary>
        /// Kills every process in this worker's group and every process whose parent chain leads here, this one
        /// excepted. Repeated a few times, so a process forked while the first round ran is caught by the next.
        /// </summary>
        public static void KillDescendants()
        {
            if (Volatile.Read(ref _owned) == 0 || _self <= 0) return;
            try
            {
                for (int round = 0; round < 5; round++)
                {
                    var targets = Descendants(_self);
                    if (targets.Count == 0) return;
                    foreach (int pid in targets) ProcessTree.Unix.kill(pid, 9);
                }
            }
            catch (Exception error)
            {
                // Called on the way out (ProcessExit): a failure here must not keep the worker alive or hide its exit code.
                try { Console.Error.WriteLine($"ProcessPool worker: could not end its child processes: {error.Message}"); }
                catch (Exception) { /* stderr is gone */ }
            }
        }

        /// <summary>The live processes in <paramref name="self"/>'s group or below it in the parent chain, <paramref name="self"/> excepted.</summary>
        internal static List<int> Descendants(int self)
        {
            var processes = ProcessTree.ListUnixProcesses();
            var parentOf = new Dictionary<int, int>();
            foreach (var (pid, parent, _) in processes) parentOf[pid] = parent;
            var result = new List<int>();
            foreach (var (pid, parent, group) in processes)
            {
                if (pid == self) continue;
                if (group == self || DescendsFrom(pid, self, parentOf)) result.Add(pid);
            }
            return result;
        }

        private static bool DescendsFrom(int pid, int ancestor, Dictionary<int, int> parentOf)
        {
            // Bounded: a parent table read while processes come and go may briefly hold a cycle.
            for (int depth = 0; depth < 256 && parentOf.TryGetValue(pid, out int parent) && parent > 1; depth++)
            {
                if (parent == ancestor) return true;
                pid = parent;
            }
            return false;
        }

        private static class Unix
        {
            [DllImport("libc", SetLastError = true)] public static extern int setsid();
            [DllImport("libc", SetLastError = true)] public static extern int setpgid(int pid, int pgid);
        }
    }
}
