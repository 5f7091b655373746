using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace ProcessPool.Engine.Tests
{
    public sealed class OutputLinesTests
    {
        [Fact]
        public void Pump_SplitsOnLfCrAndCrLf_AndKeepsALastLineWithoutBreak()
        {
            Assert.Equal(new[] { "a", "b", "", "c", "d" }, Lines("a\nb\r\n\rc\rd", 100));
        }

        [Fact]
        public void Pump_LineOverTheCap_IsCutAndMarked_AndTheNextLineArrivesWhole()
        {
            var lines = Lines(new string('x', 250) + "\nnext\n", 100);
            Assert.Equal(2, lines.Count);
            Assert.Equal(new string('x', 100) + OutputLines.TruncationMarker(100), lines[0]);
            Assert.Equal("next", lines[1]);
        }

        [Fact]
        public void Pump_HundredMegabytesWithoutALineBreak_HoldsOnlyTheCap()
        {
            var lines = new List<string>();
            long before = GC.GetAllocatedBytesForCurrentThread();
            OutputLines.Pump(new EndlessReader('y', 100_000_000, "\ntail"), OutputLines.MaxLineChars, lines.Add);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(2, lines.Count);
            Assert.Equal(OutputLines.MaxLineChars + OutputLines.TruncationMarker(OutputLines.MaxLineChars).Length, lines[0].Length);
            Assert.Equal("tail", lines[1]);
            Assert.True(allocated < 10_000_000, $"allocated {allocated} bytes reading 100 MB without a line break");
        }

        [Fact]
        public void Pump_NeverSplitsASurrogatePair()
        {
            string text = new string('a', 9) + "\U0001F600" + "bbbb";
            var line = Lines(text, 10).Single();
            Assert.Equal(new string('a', 9) + OutputLines.TruncationMarker(10), line);
        }

        [Fact]
        public void Pump_ASubscriberThatThrows_LosesItsLineOnly()
        {
            var seen = new List<string>();
            OutputLines.Pump(new StringReader("bad\ngood\n"), 100, line =>
            {
                if (line == "bad") throw new InvalidOperationException("subscriber failed");
                seen.Add(line);
            });
            Assert.Equal(new[] { "good" }, seen);
        }

        private static List<string> Lines(string text, int max)
        {
            var lines = new List<string>();
            OutputLines.Pump(new StringReader(text), max, lines.Add);
            return lines;
        }

        /// <summary>Produces <c>count</c> copies of one character, then a tail, without ever holding them all.</summary>
        private sealed class EndlessReader : TextReader
        {
            private readonly char _c;
            private long _left;
            private readonly string _tail;
            private int _tailAt;

            public EndlessReader(char c, long count, string tail)
            {
                _c = c;
                _left = count;
                _tail = tail;
            }

            public override int Read(char[] buffer, int index, int count)
            {
                if (_left > 0)
                {
                    int n = (int)Math.Min(count, _left);
                    buffer.AsSpan(index, n).Fill(_c);
                    _left -= n;
                    return n;
                }
                int rest = Math.Min(count, _tail.Length - _tailAt);
                _tail.CopyTo(_tailAt, buffer, index, rest);
                _tailAt += rest;
                return rest;
            }
        }
    }
}
