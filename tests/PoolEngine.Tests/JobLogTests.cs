using System;
using System.IO;
using System.Linq;
using System.Threading;
using ProcessPool.Engine.Diagnostics;
using Xunit;

namespace ProcessPool.Engine.Tests
{
    public sealed class JobLogTests
    {
        private static readonly DateTime Start = new DateTime(2026, 11, 22, 6, 5, 4, 321, DateTimeKind.Utc);

        [Fact]
        public void Line_Success_HasEightTabSeparatedColumnsCountsSeqFromOneAndEndsWithTheHost()
        {
            string line = JobLogFormat.Line(12, 4242, Start, TimeSpan.FromMilliseconds(1234.5), 1, null);
            Assert.Equal("13\t4242\t2026-11-22T06:05:04.321Z\t1.235\t1\tSucceeded\t\tlocalhost", line);
            Assert.Equal(JobLogFormat.Header.Split('\t').Length, line.Split('\t').Length);
        }

        [Fact]
        public void Line_LocalStartTime_IsWrittenAsUtc()
        {
            string line = JobLogFormat.Line(0, 1, Start.ToLocalTime(), TimeSpan.Zero, 1, null);
            Assert.Contains("\t2026-11-22T06:05:04.321Z\t", line);
        }

        [Fact]
        public void Line_RemoteErrorWithTabsAndNewlines_StaysOnOneLine()
        {
            var error = new RemoteItemException("System.IO.IOException", "bad\tthing\r\nhappened in C:\\dir", null, null);
            string line = JobLogFormat.Line(3, 99, Start, TimeSpan.FromSeconds(2), 3, error);
            Assert.DoesNotContain('\n', line);
            Assert.Equal(8, line.Split('\t').Length);
            Assert.EndsWith("\t3\tFailed\tSystem.IO.IOException: bad\\tthing\\r\\nhappened in C:\\\\dir\tlocalhost", line);
        }

        [Fact]
        public void Line_ItemFailure_NamesTheItemByItsOneBasedPositionAndShortForm()
        {
            var error = new ItemTimeoutException(1, "ran longer than 1 s; worker 2 (pid 7) was killed and replaced.", TimeSpan.FromSeconds(1));
            error.NameItem(ItemNames.ShortForm("beta"));
            string line = JobLogFormat.Line(1, 7, Start, TimeSpan.FromSeconds(1), 1, error);
            Assert.StartsWith("2\t7\t", line);
            Assert.EndsWith("\tTimedOut\tItem #2 ('beta') ran longer than 1 s; worker 2 (pid 7) was killed and replaced.\tlocalhost", line);
        }

        [Theory]
        [InlineData("TimedOut")]
        [InlineData("WorkerTerminated")]
        [InlineData("Failed")]
        public void Outcome_NamesEachKindOfFailure(string expected)
        {
            Exception error = expected switch
            {
                "TimedOut" => new ItemTimeoutException("slow", TimeSpan.FromSeconds(1)),
                "WorkerTerminated" => new WorkerTerminatedException("died", 137, 9),
                _ => new RemoteItemException("T", "m", null, null),
            };
            Assert.Equal(expected, JobLogFormat.Outcome(error));
        }

        [Fact]
        public void Line_ItemNoWorkerRan_HasEmptyStartAndPidZero()
        {
            Assert.StartsWith("6\t0\t\t0.000\t0\t", JobLogFormat.Line(5, 0, default, TimeSpan.Zero, 0, new PoolException("x")));
        }

        [Fact]
        public void Writer_WritesHeaderThenOneLinePerResult_AndTruncatesAnOldLog()
        {
            string dir = Directory.CreateTempSubdirectory("pp-joblog-").FullName;
            try
            {
                string path = Path.Combine(dir, "run.log");
                File.WriteAllText(path, "old contents\nold\nold\n");
                using (var writer = new JobLogWriter(path))
                {
                    writer.Write(new ItemResult(0, null, Array.Empty<OutputRecord>(), null, 1, 100, Start, TimeSpan.FromSeconds(1), 1));
                    writer.Write(new ItemResult(1, null, Array.Empty<OutputRecord>(), new ItemTimeoutException("t", TimeSpan.FromSeconds(1)), 2, 101, Start, TimeSpan.FromSeconds(1), 2));
                }
                var lines = File.ReadAllLines(path);
                Assert.Equal(3, lines.Length);
                Assert.Equal(JobLogFormat.Header, lines[0]);
                Assert.StartsWith("1\t100\t", lines[1]);
                Assert.StartsWith("2\t101\t", lines[2]);
                Assert.Contains("\tTimedOut\t", lines[2]);
            }
            finally { Directory.Delete(dir, true); }
        }

        [Fact]
        public void Writer_LinesBecomeVisibleWithinTheFlushInterval()
        {
            string dir = Directory.CreateTempSubdirectory("pp-joblog-").FullName;
            try
            {
                string path = Path.Combine(dir, "run.log");
                using var writer = new JobLogWriter(path);
                writer.Write(new ItemResult(0, null, Array.Empty<OutputRecord>(), null, 1, 100, Start, TimeSpan.Zero, 1));
                Thread.Sleep(JobLogWriter.FlushInterval + TimeSpan.FromMilliseconds(50));
                writer.Write(new ItemResult(1, null, Array.Empty<OutputRecord>(), null, 1, 100, Start, TimeSpan.Zero, 1));
                using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
                Assert.Equal(3, reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            }
            finally { Directory.Delete(dir, true); }
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Writer_PathIsASymbolicLink_IsRefused_AndItsTargetIsLeftAlone(bool targetExists)
        {
            string dir = Directory.CreateTempSubdirectory("pp-joblog-").FullName;
            try
            {
                string target = Path.Combine(dir, "precious.txt");
                if (targetExists) File.WriteAllText(target, "keep me");
                string link = Path.Combine(dir, "run.log");
                try { File.CreateSymbolicLink(link, target); }
                catch (Exception error) when (OperatingSystem.IsWindows() && (error is IOException || error is UnauthorizedAccessException))
                {
                    return; // creating links needs a privilege this Windows account does not have: nothing to test
                }
                var refused = Assert.Throws<IOException>(() => new JobLogWriter(link));
                Assert.Contains(link, refused.Message);
                if (targetExists) Assert.Equal("keep me", File.ReadAllText(target));
                else Assert.False(File.Exists(target));
            }
            finally { Directory.Delete(dir, true); }
        }

        [Fact]
        public void Writer_NewLog_GetsTheDefaultPermissionsLessTheUmask()
        {
            if (!OperatingSystem.IsLinux()) return; // the umask is read from /proc
            string dir = Directory.CreateTempSubdirectory("pp-joblog-").FullName;
            try
            {
                string path = Path.Combine(dir, "run.log");
                using (new JobLogWriter(path)) { }
                string umaskLine = File.ReadAllLines("/proc/self/status").Single(l => l.StartsWith("Umask:", StringComparison.Ordinal));
                int umask = Convert.ToInt32(umaskLine.Substring("Umask:".Length).Trim(), 8);
                Assert.Equal((UnixFileMode)(0b110_110_110 & ~umask), File.GetUnixFileMode(path));
            }
            finally { Directory.Delete(dir, true); }
        }
    }
}
