using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;

namespace ProcessPool.Engine.Diagnostics
{
    /// <summary>
    /// A job log in the spirit of GNU parallel's <c>--joblog</c>: one tab-separated line per item, written as results
    /// are taken, so whoever owns a scheduled run can read the next morning which item ran where, for how long, how
    /// many times, and how it ended. Columns: <see cref="Header"/>.
    /// </summary>
    public static class JobLogFormat
    {
        /// <summary>The first line of every log.</summary>
        public const string Header = "Seq\tWorkerPid\tStartUtc\tSeconds\tAttempts\tOutcome\tError\tHost";

        /// <summary>How an item ended, as the Outcome column spells it.</summary>
        public static string Outcome(Exception? error) => error switch
        {
            null => "Succeeded",
            ItemTimeoutException => "TimedOut",
            WorkerTerminatedException => "WorkerTerminated",
            _ => "Failed",
        };

        /// <summary>The line for one result.</summary>
        public static string Line(ItemResult result) =>
            Line(result.Sequence, result.ProcessId, result.StartedUtc, result.Duration, result.Attempts, result.Error, result.HostName);

        /// <summary>
        /// The line for one item (<paramref name="sequence"/> from 0, as <see cref="ItemResult.Sequence"/>): its position in the input (from 1, the "item #3" of error messages), the worker's pid (0 when no worker ran it), the
        /// start of its last attempt (ISO 8601, UTC), its run time in seconds, attempts, outcome, the error message
        /// (tabs and line breaks escaped so each item stays on one line) and the worker's host (<c>localhost</c>, or the
        /// remote host as the pool names it; last, so readers of the older seven columns keep working). For a remote
        /// worker the pid is its local ssh client's.
        /// </summary>
        public static string Line(long sequence, int processId, DateTime startedUtc, TimeSpan duration, int attempts, Exception? error, string? hostName = null)
        {
            var line = new StringBuilder(96);
            line.Append((sequence + 1).ToString(CultureInfo.InvariantCulture)).Append('\t');
            line.Append(processId.ToString(CultureInfo.InvariantCulture)).Append('\t');
            line.Append(startedUtc == default ? "" : startedUtc.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).Append('\t');
            line.Append(duration.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)).Append('\t');
            line.Append(attempts.ToString(CultureInfo.InvariantCulture)).Append('\t');
            line.Append(Outcome(error)).Append('\t');
            if (error != null) Escape(line, ErrorText(error));
            line.Append('\t');
            Escape(line, hostName ?? WorkerGroup.LocalHostName);
            return line.ToString();
        }

        private static string ErrorText(Exception error) =>
            error is RemoteItemException remote ? remote.RemoteType + ": " + remote.RemoteMessage : error.Message;

        /// <summary>Appends <paramref name="text"/> with backslash, tab, CR and LF escaped as <c>\\ \t \r \n</c>.</summary>
        public static void Escape(StringBuilder line, string text)
        {
            foreach (char c in text)
            {
                switch (c)
                {
                    case '\\': line.Append("\\\\"); break;
                    case '\t': line.Append("\\t"); break;
                    case '\r': line.Append("\\r"); break;
                    case '\n': line.Append("\\n"); break;
                    default: line.Append(c); break;
                }
            }
        }
    }

    /// <summary>
    /// Writes a job log file: the header, then one line per result. The file is created (or an existing file
    /// overwritten) when opened; a new file gets the process's default permissions (on Unix, 0666 less the umask), an
    /// existing one keeps its own. A symbolic link (or other reparse point) at the path is refused, never followed: a
    /// link planted in a shared directory must not make the log overwrite the file it points to. The check is made
    /// before opening, without truncating, and again after, so a link swapped in between is caught too.
    /// Lines are flushed at most every <see cref="FlushInterval"/> and on dispose, so a long run costs no write per item
    /// yet a log read during the run is at most that far behind. The log holds the items' error messages. Thread-safe.
    /// </summary>
    public sealed class JobLogWriter : IDisposable
    {
        /// <summary>Longest a written line stays in the buffer.</summary>
        public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);

        private readonly StreamWriter _writer;
        private readonly object _sync = new object();
        private long _lastFlushTicks = Stopwatch.GetTimestamp();
        private bool _disposed;

        /// <summary>Creates or overwrites the file at <paramref name="path"/> and writes the header.</summary>
        /// <exception cref="IOException">The path is a symbolic link, or the file cannot be written.</exception>
        public JobLogWriter(string path)
        {
            Path = System.IO.Path.GetFullPath(path);
            RefuseLink(Path);
            var stream = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            try
            {
                RefuseLink(Path);
                stream.SetLength(0);
            }
            catch
            {
                stream.Dispose();
                throw;
            }
            _writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" };
            _writer.WriteLine(JobLogFormat.Header);
            _writer.Flush();
        }

        private static void RefuseLink(string path)
        {
            var attributes = new FileInfo(path).Attributes; // the link's own (lstat), also for a link to nothing; -1 when nothing is there
            if ((int)attributes != -1 && (attributes & FileAttributes.ReparsePoint) != 0)
                throw new IOException($"'{path}' is a symbolic link; a job log is not written through one. Remove the link or choose another path.");
        }

        /// <summary>The log's full path.</summary>
        public string Path { get; }

        /// <summary>Appends the line of <paramref name="result"/>.</summary>
        public void Write(ItemResult result)
        {
            string line = JobLogFormat.Line(result);
            lock (_sync)
            {
                if (_disposed) return;
                _writer.WriteLine(line);
                long now = Stopwatch.GetTimestamp();
                if (now - _lastFlushTicks >= FlushInterval.TotalSeconds * Stopwatch.Frequency)
                {
                    _writer.Flush();
                    _lastFlushTicks = now;
                }
            }
        }

        /// <summary>Flushes and closes the file.</summary>
        public void Dispose()
        {
            lock (_sync)
            {
                if (_disposed) return;
                _disposed = true;
                _writer.Dispose();
            }
        }
    }
}
