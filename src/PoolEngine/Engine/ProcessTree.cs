using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ProcessPool.Engine
{
    /// <summary>
    /// Ends a worker together with every process it started, so no grandchild of a worker is left behind.
    /// <list type="bullet">
    /// <item>A live tree: <see cref="Kill"/> (the runtime's own tree kill, a <c>/proc</c> walk or <c>taskkill /T</c>).</item>
    /// <item>Unix: every worker leads its own session and process group (<see cref="Worker.WorkerTree"/>), which whatever
    /// an item starts joins and keeps after its parent exits (<c>sh -c 'sleep 300 &amp;'</c>, <c>Start-Process</c>,
    /// <c>nohup</c>). Once the worker is gone, <see cref="KillOrphanedGroup"/> ends what is left of the group, which
    /// the tree walk can no longer find: those processes were re-parented to init.</item>
    /// <item>Windows: <see cref="KillOnCloseJob"/> puts the worker in a job object that kills every process in it when
    /// its last handle closes, on any path, the caller's own death included.</item>
    /// </list>
    /// </summary>
    internal static class ProcessTree
    {
        // Process.Kill(bool entireProcessTree) exists on .NET Core 3+, not in netstandard2.0: found once by reflection.
        private static readonly MethodInfo? KillTree = typeof(Process).GetMethod("Kill", new[] { typeof(bool) });

        private static readonly bool IsWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        private const int SIGKILL = 9;

        public static void Kill(Process process)
        {
            try
            {
                if (process.HasExited) return;
            }
            catch (InvalidOperationException) { return; }
            try
            {
                if (KillTree != null) KillTree.Invoke(process, new object[] { true });
                else if (IsWindows) KillWithTaskkill(process.Id);
                else KillUnixTree(process.Id);
            }
            catch (Exception)
            {
                try { process.Kill(); } catch (Exception) { /* already gone */ }
            }
        }

        /// <summary>True when the live process <paramref name="pid"/> leads a process group of its own (Unix; false elsewhere).</summary>
        public static bool LeadsOwnGroup(int pid)
        {
            if (IsWindows || pid <= 0) return false;
            try { return Unix.getpgid(pid) == pid; }
            catch (Exception error) when (error is DllNotFoundException || error is EntryPointNotFoundException) { return false; }
        }

        /// <summary>
        /// Kills what is left of the process group that the worker <paramref name="leader"/> led, after the worker itself
        /// was reaped. The group outlives its leader while any member lives, and its id cannot be given to a new process
        /// meanwhile, so signalling it reaches only the worker's own descendants. One exception is checked: if a live
        /// process now has the id and leads a group of that id, the old group ended and the id was reused; nothing is sent.
        /// </summary>
        public static void KillOrphanedGroup(int leader)
        {
            if (IsWindows || leader <= 1) return;
            try
            {
                if (Unix.getpgid(leader) == leader) return; // a new process with the same id leads its own group
                Unix.kill(-leader, SIGKILL); // ESRCH when the group is empty: nothing was left behind
            }
            catch (Exception error) when (error is DllNotFoundException || error is EntryPointNotFoundException)
            {
                // not a Unix libc: nothing to do
            }
        }

        /// <summary>Process id, parent id and process group of every process on a Unix system: <c>/proc</c> where there is one, else <c>ps</c> (macOS, the BSDs).</summary>
        internal static List<(int Pid, int Parent, int Group)> ListUnixProcesses()
        {
            return Directory.Exists("/proc/self") ? ListFromProc() : ListFromPs();
        }

        internal static List<(int, int, int)> ListFromProc()
        {
            var list = new List<(int, int, int)>();
            foreach (string dir in Directory.GetDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
                try
                {
                    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so fields count from the last ')'.
                    string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    string[] fields = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ');
                    if (fields[0] == "Z") continue; // a zombie has ended already; it only waits to be reaped
                    list.Add((pid, int.Parse(fields[1], CultureInfo.InvariantCulture), int.Parse(fields[2], CultureInfo.InvariantCulture)));
                }
                catch (Exception) { /* the process ended while we looked */ }
            }
            return list;
        }

        internal static List<(int, int, int)> ListFromPs()
        {
            var list = new List<(int, int, int)>();
            var info = new ProcessStartInfo("ps", "-A -o pid= -o ppid= -o pgid= -o stat=")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                CreateNoWindow = true,
            };
            using var ps = Process.Start(info);
            if (ps == null) return list;
            string output = ps.StandardOutput.ReadToEnd();
            ps.WaitForExit(5000);
            foreach (string line in output.Split('\n'))
            {
                string[] fields = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 4 || fields[3].StartsWith("Z", StringComparison.Ordinal)) continue;
                if (int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) &&
                    int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int parent) &&
                    int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out int group) &&
                    pid != ps.Id)
                    list.Add((pid, parent, group));
            }
            return list;
        }

        private static void KillWithTaskkill(int pid)
        {
            using var taskkill = Process.Start(new ProcessStartInfo("taskkill", $"/T /F /PID {pid}") { CreateNoWindow = true, UseShellExecute = false });
            taskkill?.WaitForExit(5000);
        }

        private static void KillUnixTree(int root)
        {
            var children = new Dictionary<int, List<int>>();
            foreach (var (pid, parent, _) in ListUnixProcesses())
            {
                if (!children.TryGetValue(parent, out var list)) children[parent] = list = new List<int>();
                list.Add(pid);
            }
            var order = new List<int>();
            var stack = new Stack<int>();
            stack.Push(root);
            while (stack.Count > 0)
            {
                int pid = stack.Pop();
                order.Add(pid);
                if (children.TryGetValue(pid, out var list)) foreach (int child in list) stack.Push(child);
            }
            foreach (int pid in order) Unix.kill(pid, SIGKILL);
        }

        internal static class Unix
        {
            [DllImport("libc", SetLastError = true)] public static extern int kill(int pid, int signal);
            [DllImport("libc", SetLastError = true)] public static extern int getpgid(int pid);
        }
    }

    /// <summary>
    /// Windows: a job object that holds one worker and, by inheritance, everything it starts, created with
    /// <c>JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE</c>. The parent keeps the only handle: disposing it after the worker is
    /// gone kills the worker's leftovers, and if the parent itself dies, Windows closes the handle and kills them all.
    /// Written against the documented API; the test suite runs on Linux, so this path is not exercised there.
    /// </summary>
    internal sealed class KillOnCloseJob : IDisposable
    {
        private readonly JobHandle _handle;

        private KillOnCloseJob(JobHandle handle) => _handle = handle;

        /// <summary>A job holding <paramref name="process"/>, or null off Windows or when Windows refuses (the tree kill still applies then).</summary>
        public static KillOnCloseJob? TryCreate(Process process)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return null;
            JobHandle? handle = null;
            try
            {
                handle = Native.CreateJobObject(IntPtr.Zero, null);
                if (handle.IsInvalid) return null;
                var limits = new Native.ExtendedLimitInformation();
                limits.BasicLimitInformation.LimitFlags = Native.KillOnJobClose;
                int size = Marshal.SizeOf(typeof(Native.ExtendedLimitInformation));
                if (!Native.SetInformationJobObject(handle, Native.JobObjectExtendedLimitInformation, ref limits, size) ||
                    !Native.AssignProcessToJobObject(handle, process.Handle))
                {
                    handle.Dispose();
                    return null;
                }
                var job = new KillOnCloseJob(handle);
                handle = null;
                return job;
            }
            catch (Exception error) when (error is DllNotFoundException || error is EntryPointNotFoundException || error is InvalidOperationException)
            {
                return null;
            }
            finally
            {
                handle?.Dispose();
            }
        }

        /// <summary>Closes the job, which kills every process still in it.</summary>
        public void Dispose() => _handle.Dispose();

        private sealed class JobHandle : SafeHandleZeroOrMinusOneIsInvalid
        {
            public JobHandle() : base(true) { }

            protected override bool ReleaseHandle() => Native.CloseHandle(handle);
        }

        private static class Native
        {
            public const int JobObjectExtendedLimitInformation = 9;
            public const uint KillOnJobClose = 0x2000;

            [StructLayout(LayoutKind.Sequential)]
            public struct BasicLimitInformation
            {
                public long PerProcessUserTimeLimit;
                public long PerJobUserTimeLimit;
                public uint LimitFlags;
                public UIntPtr MinimumWorkingSetSize;
                public UIntPtr MaximumWorkingSetSize;
                public uint ActiveProcessLimit;
                public UIntPtr Affinity;
                public uint PriorityClass;
                public uint SchedulingClass;
            }

            [StructLayout(LayoutKind.Sequential)]
            public struct IoCounters
            {
                public ulong ReadOperationCount;
                public ulong WriteOperationCount;
                public ulong OtherOperationCount;
                public ulong ReadTransferCount;
                public ulong WriteTransferCount;
                public ulong OtherTransferCount;
            }

            [StructLayout(LayoutKind.Sequential)]
            public struct ExtendedLimitInformation
            {
                public BasicLimitInformation BasicLimitInformation;
                public IoCounters IoInfo;
                public UIntPtr ProcessMemoryLimit;
                public UIntPtr JobMemoryLimit;
                public UIntPtr PeakProcessMemoryUsed;
                public UIntPtr PeakJobMemoryUsed;
            }

            [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
            public static extern JobHandle CreateJobObject(IntPtr attributes, string? name);

            [DllImport("kernel32.dll", SetLastError = true)]
            public static extern bool SetInformationJobObject(JobHandle job, int infoClass, ref ExtendedLimitInformation info, int length);

            [DllImport("kernel32.dll", SetLastError = true)]
            public static extern bool AssignProcessToJobObject(JobHandle job, IntPtr process);

            [DllImport("kernel32.dll", SetLastError = true)]
            public static extern bool CloseHandle(IntPtr handle);
        }
    }
}
