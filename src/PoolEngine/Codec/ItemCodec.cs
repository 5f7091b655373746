using System;
using System.IO;
using System.Text;

namespace ProcessPool.Engine.Codec
{
    /// <summary>The first byte of an encoded item or record: which representation follows.</summary>
    public enum ItemTag : byte
    {
        /// <summary>A null value; nothing follows.</summary>
        Null = 0,
        /// <summary>A string, UTF-8.</summary>
        String = 1,
        /// <summary>An <see cref="int"/>, 4 bytes little-endian.</summary>
        Int32 = 2,
        /// <summary>A <see cref="long"/>, 8 bytes little-endian.</summary>
        Int64 = 3,
        /// <summary>A <see cref="double"/>, its 8 IEEE bytes.</summary>
        Double = 4,
        /// <summary>A <see cref="bool"/>, one byte.</summary>
        Boolean = 5,
        /// <summary>A <see cref="decimal"/>, its four 32-bit parts.</summary>
        Decimal = 6,
        /// <summary>A <see cref="char"/>, 2 bytes.</summary>
        Char = 7,
        /// <summary>A <see cref="System.Guid"/>, 16 bytes.</summary>
        Guid = 8,
        /// <summary>A <see cref="System.DateTime"/>, as <see cref="System.DateTime.ToBinary"/> (ticks and kind).</summary>
        DateTime = 9,
        /// <summary>A <see cref="System.IO.FileInfo"/>, sent as its full path (UTF-8) and opened again on the other side.</summary>
        FileInfo = 10,
        /// <summary>A <see cref="System.IO.DirectoryInfo"/>, sent as its full path (UTF-8).</summary>
        DirectoryInfo = 11,
        /// <summary>A <see cref="byte"/>.</summary>
        Byte = 12,
        /// <summary>A <see cref="short"/>, 2 bytes.</summary>
        Int16 = 13,
        /// <summary>A <see cref="float"/>, its 4 IEEE bytes.</summary>
        Single = 14,
        /// <summary>A <see cref="System.TimeSpan"/>, its ticks.</summary>
        TimeSpan = 15,
        /// <summary>Anything else: PowerShell CliXml text (UTF-8) that only the PowerShell side can read.</summary>
        CliXml = 64,
    }

    /// <summary>
    /// The tagged byte format of script-block items and records: one tag byte, then the value. Strings, common
    /// primitives and file system objects take a fast path that costs a few hundred nanoseconds; everything else is
    /// CliXml, which the PowerShell side produces and reads (this assembly never references PowerShell, so CliXml
    /// crosses it as text). A <see cref="System.IO.FileInfo"/> travels as its path because a CliXml round trip of one
    /// costs about a millisecond and several kilobytes, more than the work most items do on a file.
    /// </summary>
    public static class ItemCodec
    {
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);

        /// <summary>
        /// Encodes <paramref name="value"/> when its exact type has a fast path; false for everything else (encode it with
        /// <see cref="EncodeCliXml"/>). Text with a lone surrogate has no UTF-8 form, so it takes CliXml too, which
        /// escapes such a character as <c>_xD800_</c> and restores it, as PowerShell remoting carries it.
        /// </summary>
        public static bool TryEncode(object? value, out byte[] data)
        {
            if ((value is string text && HasLoneSurrogate(text)) || (value is FileSystemInfo info && HasLoneSurrogate(info.FullName)))
            {
                data = Array.Empty<byte>();
                return false;
            }
            switch (value)
            {
                case null: data = new[] { (byte)ItemTag.Null }; return true;
                case string s: data = Text(ItemTag.String, s); return true;
                case int i: data = Fixed(ItemTag.Int32, 4, (ulong)(uint)i); return true;
                case long l: data = Fixed(ItemTag.Int64, 8, (ulong)l); return true;
                case double d: data = Fixed(ItemTag.Double, 8, (ulong)BitConverter.DoubleToInt64Bits(d)); return true;
                case bool b: data = new[] { (byte)ItemTag.Boolean, b ? (byte)1 : (byte)0 }; return true;
                case decimal m:
                    data = new byte[17];
                    data[0] = (byte)ItemTag.Decimal;
                    int[] bits = decimal.GetBits(m);
                    for (int k = 0; k < 4; k++) Write(data, 1 + 4 * k, 4, (ulong)(uint)bits[k]);
                    return true;
                case char c: data = Fixed(ItemTag.Char, 2, c); return true;
                case Guid g:
                    data = new byte[17];
                    data[0] = (byte)ItemTag.Guid;
                    Buffer.BlockCopy(g.ToByteArray(), 0, data, 1, 16);
                    return true;
                case DateTime t: data = Fixed(ItemTag.DateTime, 8, (ulong)t.ToBinary()); return true;
                case FileInfo f: data = Text(ItemTag.FileInfo, f.FullName); return true;
                case DirectoryInfo dir: data = Text(ItemTag.DirectoryInfo, dir.FullName); return true;
                case byte u8: data = new[] { (byte)ItemTag.Byte, u8 }; return true;
                case short i16: data = Fixed(ItemTag.Int16, 2, (ulong)(ushort)i16); return true;
                case float f32: data = Fixed(ItemTag.Single, 4, (uint)BitConverter.ToInt32(BitConverter.GetBytes(f32), 0)); return true;
                case TimeSpan span: data = Fixed(ItemTag.TimeSpan, 8, (ulong)span.Ticks); return true;
                default: data = Array.Empty<byte>(); return false;
            }
        }

        /// <summary>True when <paramref name="value"/>'s type has a fast path (no CliXml needed).</summary>
        public static bool HasFastPath(object? value) => value switch
        {
            null or string or int or long or double or bool or decimal or char or Guid or DateTime
                or FileInfo or DirectoryInfo or byte or short or float or TimeSpan => true,
            _ => false,
        };

        /// <summary>True when <paramref name="text"/> holds a surrogate that is not half of a pair (it has no UTF-8 encoding).</summary>
        public static bool HasLoneSurrogate(string text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c < '\uD800' || c > '\uDFFF') continue;
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                    continue;
                }
                return true;
            }
            return false;
        }

        /// <summary>Wraps CliXml text produced by the PowerShell side.</summary>
        public static byte[] EncodeCliXml(string cliXml) => Text(ItemTag.CliXml, cliXml ?? throw new ArgumentNullException(nameof(cliXml)));

        /// <summary>The tag of an encoded value.</summary>
        public static ItemTag PeekTag(ArraySegment<byte> data)
        {
            if (data.Array == null || data.Count == 0) throw new InvalidDataException("An encoded item is empty; it has no tag byte.");
            return (ItemTag)data.Array[data.Offset];
        }

        /// <summary>
        /// Decodes a value. A fast-path value comes back as itself (a <see cref="System.IO.FileInfo"/> as a fresh object for the
        /// same path); CliXml is handed as text to <paramref name="fromCliXml"/>.
        /// </summary>
        public static object? Decode(ArraySegment<byte> data, Func<string, object?> fromCliXml)
        {
            var tag = PeekTag(data);
            byte[] a = data.Array!;
            int p = data.Offset + 1;
            int n = data.Count - 1;
            switch (tag)
            {
                case ItemTag.Null: return null;
                case ItemTag.String: return Utf8.GetString(a, p, n);
                case ItemTag.Int32: Need(n, 4, tag); return (int)(uint)Read(a, p, 4);
                case ItemTag.Int64: Need(n, 8, tag); return (long)Read(a, p, 8);
                case ItemTag.Double: Need(n, 8, tag); return BitConverter.Int64BitsToDouble((long)Read(a, p, 8));
                case ItemTag.Boolean: Need(n, 1, tag); return a[p] != 0;
                case ItemTag.Decimal:
                    Need(n, 16, tag);
                    var bits = new int[4];
                    for (int k = 0; k < 4; k++) bits[k] = (int)(uint)Read(a, p + 4 * k, 4);
                    return new decimal(bits);
                case ItemTag.Char: Need(n, 2, tag); return (char)Read(a, p, 2);
                case ItemTag.Guid:
                    Need(n, 16, tag);
                    var guid = new byte[16];
                    Buffer.BlockCopy(a, p, guid, 0, 16);
                    return new Guid(guid);
                case ItemTag.DateTime: Need(n, 8, tag); return System.DateTime.FromBinary((long)Read(a, p, 8));
                case ItemTag.FileInfo: return new FileInfo(Utf8.GetString(a, p, n));
                case ItemTag.DirectoryInfo: return new DirectoryInfo(Utf8.GetString(a, p, n));
                case ItemTag.Byte: Need(n, 1, tag); return a[p];
                case ItemTag.Int16: Need(n, 2, tag); return (short)(ushort)Read(a, p, 2);
                case ItemTag.Single: Need(n, 4, tag); return BitConverter.ToSingle(BitConverter.GetBytes((uint)Read(a, p, 4)), 0);
                case ItemTag.TimeSpan: Need(n, 8, tag); return new TimeSpan((long)Read(a, p, 8));
                case ItemTag.CliXml: return fromCliXml(Utf8.GetString(a, p, n));
                default: throw new InvalidDataException($"Unknown item tag {(byte)tag}.");
            }
        }

        /// <summary>Decodes a whole array (see <see cref="Decode(ArraySegment{byte}, Func{string, object})"/>).</summary>
        public static object? Decode(byte[] data, Func<string, object?> fromCliXml) => Decode(new ArraySegment<byte>(data), fromCliXml);

        private static byte[] Text(ItemTag tag, string text)
        {
            var data = new byte[1 + Utf8.GetByteCount(text)];
            data[0] = (byte)tag;
            Utf8.GetBytes(text, 0, text.Length, data, 1);
            return data;
        }

        private static byte[] Fixed(ItemTag tag, int size, ulong value)
        {
            var data = new byte[1 + size];
            data[0] = (byte)tag;
            Write(data, 1, size, value);
            return data;
        }

        private static void Write(byte[] data, int offset, int size, ulong value)
        {
            for (int k = 0; k < size; k++) data[offset + k] = (byte)(value >> (8 * k));
        }

        private static ulong Read(byte[] data, int offset, int size)
        {
            ulong value = 0;
            for (int k = 0; k < size; k++) value |= (ulong)data[offset + k] << (8 * k);
            return value;
        }

        private static void Need(int have, int need, ItemTag tag)
        {
            if (have != need) throw new InvalidDataException($"A {tag} value needs {need} bytes; it has {have}.");
        }
    }
}
