using System;
using System.IO;
using System.Text;

namespace ProcessPool.Engine
{
    /// <summary>
    /// Turns a worker's console output (its stderr, where everything user code and its children print lands) into lines
    /// for <see cref="PoolEventKind.WorkerOutput"/> events, holding at most <see cref="MaxLineChars"/> characters of a
    /// line: a line that goes on longer is relayed cut at that length, marked as cut, and the rest of it, up to the next
    /// line break, is read and dropped. So output without line breaks (a binary dump, a progress bar drawn with carriage
    /// returns is fine: CR ends a line) cannot grow the caller's memory, unlike the runtime's own line reader.
    /// </summary>
    internal static class OutputLines
    {
        /// <summary>Longest line relayed: far beyond any log line a person reads, small enough that a full event queue stays a few MB.</summary>
        public const int MaxLineChars = 16 * 1024;

        /// <summary>What a cut line ends with.</summary>
        public static string TruncationMarker(int maxChars) =>
            $" [ProcessPool: line cut at {maxChars} characters; the rest of it is dropped]";

        /// <summary>
        /// Reads <paramref name="reader"/> to its end, calling <paramref name="onLine"/> for each line (CR, LF or CRLF ends
        /// one). Returns when the stream ends or fails; a failing <paramref name="onLine"/> loses that line only, and
        /// reading goes on, so the worker never blocks on a full pipe.
        /// </summary>
        public static void Pump(TextReader reader, int maxChars, Action<string> onLine)
        {
            var line = new StringBuilder(256);
            var buffer = new char[4096];
            bool dropping = false, afterCr = false;
            while (true)
            {
                int count;
                try { count = reader.Read(buffer, 0, buffer.Length); }
                catch (Exception error) when (error is IOException || error is ObjectDisposedException || error is InvalidOperationException)
                {
                    break; // the worker is gone and its pipe with it
                }
                if (count <= 0) break;
                for (int i = 0; i < count; i++)
                {
                    char c = buffer[i];
                    if (c == '\n' && afterCr) { afterCr = false; continue; }
                    afterCr = c == '\r';
                    if (c == '\n' || c == '\r')
                    {
                        if (!dropping) Deliver(onLine, line.ToString());
                        line.Clear();
                        dropping = false;
                    }
                    else if (!dropping)
                    {
                        if (line.Length < maxChars)
                        {
                            line.Append(c);
                            continue;
                        }
                        // Never split a surrogate pair: the cut line must stay valid text.
                        if (char.IsHighSurrogate(line[line.Length - 1])) line.Length--;
                        Deliver(onLine, line.Append(TruncationMarker(maxChars)).ToString());
                        line.Clear();
                        dropping = true;
                    }
                }
            }
            if (line.Length > 0 && !dropping) Deliver(onLine, line.ToString());
        }

        private static void Deliver(Action<string> onLine, string line)
        {
            try { onLine(line); }
            catch (Exception) { /* a subscriber's failure loses this line; the pipe must still be drained */ }
        }
    }
}
