using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;

namespace ProcessPool.Engine
{
    /// <summary>Kills a process together with every process it started, so no grandchild of a worker is left behind.</summary>
    internal static class ProcessTree
    {
        // Process.Kill(bool entireProcessTree) exists on .NET Core 3+, not in netstandard2.0: found once by reflection.
        private static readonly MethodInfo? KillTree = typeof(Process).GetMethod("Kill", new[] { typeof(bool) });

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
                else if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) KillWithTaskkill(process.Id);
                else KillUnixTree(process.Id);
            }
            catch (Exception)
            {
                try { process.Kill(); } catch (Exception) { /* already gone */ }
            }
        }

        private static void KillWithTaskkill(int pid)
        {
            using var taskkill = Process.Start(new ProcessStartInfo("taskkill", $"/T /F /PID {pid}") { CreateNoWindow = true, UseShellExecute = false });
            taskkill?.WaitForExit(5000);
        }

        private static void KillUnixTree(int root)
        {
            var children = new Dictionary<int, List<int>>();
            foreach (string dir in Directory.GetDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
                try
                {
                    string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    string[] fields = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ');
                    int parent = int.Parse(fields[1]);
                    if (!children.TryGetValue(parent, out var list)) children[parent] = list = new List<int>();
                    list.Add(pid);
                }
                catch (Exception) { /* the process ended while we looked */ }
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
            foreach (int pid in order) kill(pid, 9);
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int kill(int pid, int signal);
    }
}
