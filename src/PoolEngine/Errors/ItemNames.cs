using System;
using System.Globalization;
using System.Text;

namespace ProcessPool.Engine
{
    /// <summary>
    /// How messages name an input item: its 1-based position and a short form of the object, "item #3 (3)",
    /// "item #2 ('beta')". Positions count from 1 everywhere a person reads them (messages, the job log); the engine's
    /// <see cref="ItemResult.Sequence"/> counts from 0.
    /// </summary>
    public static class ItemNames
    {
        /// <summary>Longest short form, in characters, before it is cut with an ellipsis.</summary>
        public const int MaxShortForm = 40;

        /// <summary>"item #<i>n</i>" for the item at <paramref name="sequence"/> (from 0), with " (<paramref name="shortForm"/>)" when given.</summary>
        public static string Name(long sequence, string? shortForm)
        {
            string name = "item #" + (sequence + 1).ToString(CultureInfo.InvariantCulture);
            return string.IsNullOrEmpty(shortForm) ? name : name + " (" + shortForm + ")";
        }

        /// <summary>The name with a capital first letter, to start a sentence.</summary>
        public static string Capitalized(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name.Substring(1);

        /// <summary>
        /// A short, one-line form of a plain .NET value: a string quoted as PowerShell would write it ('beta'), a
        /// number or date in invariant culture, anything else its ToString; cut to <see cref="MaxShortForm"/>
        /// characters, with control characters shown as spaces. Null is "null"; PowerShell callers pass their own
        /// spelling of what they unwrap.
        /// </summary>
        public static string ShortForm(object? value) => value switch
        {
            null => "null",
            string s => "'" + Cut(s.Replace("'", "''"), MaxShortForm - 2) + "'",
            char c => "'" + Cut(c.ToString().Replace("'", "''"), MaxShortForm - 2) + "'",
            DateTime d => Cut(d.ToString("o", CultureInfo.InvariantCulture), MaxShortForm),
            IFormattable f => Cut(f.ToString(null, CultureInfo.InvariantCulture), MaxShortForm),
            _ => Cut(SafeToString(value), MaxShortForm),
        };

        /// <summary>Cuts <paramref name="text"/> to <paramref name="max"/> characters (an ellipsis marks the cut) and flattens it to one line.</summary>
        public static string Cut(string text, int max)
        {
            var line = new StringBuilder(Math.Min(text.Length, max + 1));
            foreach (char c in text)
            {
                if (line.Length == max)
                {
                    // Never leave half a surrogate pair at the cut.
                    if (char.IsHighSurrogate(line[line.Length - 1])) line.Length--;
                    line.Length--;
                    line.Append('\u2026');
                    break;
                }
                line.Append(char.IsControl(c) ? ' ' : c);
            }
            return line.ToString();
        }

        private static string SafeToString(object value)
        {
            try { return value.ToString() ?? value.GetType().Name; }
            catch (Exception) { return value.GetType().Name; } // a ToString that throws must not hide the item's real failure
        }
    }
}
