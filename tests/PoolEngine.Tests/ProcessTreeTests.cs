using System;
using System.Diagnostics;
using System.Linq;
using ProcessPool.Engine.Worker;
using Xunit;

namespace ProcessPool.Engine.Tests
{
    public sealed class ProcessTreeTests
    {
        /// <summary>The ps listing is what macOS uses; Linux has both, so the two can be compared here.</summary>
        [Fact]
        public void ListFromPs_AgreesWithProc_OnThisProcessAndItsParent()
        {
            if (!OperatingSystem.IsLinux()) return; // /proc is the reference
            int self = Environment.ProcessId;
            var fromProc = ProcessTree.ListFromProc().Single(p => p.Item1 == self);
            var fromPs = ProcessTree.ListFromPs().Single(p => p.Item1 == self);
            Assert.Equal(fromProc, fromPs);
        }

        [Fact]
        public void Descendants_FindsAChildThroughItsParentChain()
        {
            if (OperatingSystem.IsWindows()) return; // a job object does this on Windows
            using var child = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
            try
            {
                Assert.Contains(child.Id, WorkerTree.Descendants(Environment.ProcessId));
                Assert.DoesNotContain(Environment.ProcessId, WorkerTree.Descendants(Environment.ProcessId));
            }
            finally
            {
                child.Kill();
                child.WaitForExit();
            }
        }
    }
}
