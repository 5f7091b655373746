using System;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace ProcessPool.Engine.Methods
{
    /// <summary>
    /// The binary form of a primitive method item or result: one tag byte, then the value (little-endian; a string as
    /// UTF-8). Tags are below any byte a JSON text can start with, so one look at the first byte tells the two forms
    /// apart, and JSON items (the cmdlets', hand-written ones) keep working. Encoding a long as JSON and reading it back
    /// costs about 100 ns a side; this form costs a copy.
    /// </summary>
    internal static class MethodPrimitives
    {
        public const byte Boolean = 1, Int32 = 2, Int64 = 3, Double = 4, String = 5;
        /// <summary>A batch (<see cref="MethodBatch"/>), not a primitive; listed here so the tags stay distinct.</summary>
        public const byte Batch = 6;

        /// <summary>True when <paramref name="data"/> is in a binary form (a primitive or a batch), not JSON.</summary>
        public static bool IsBinary(ReadOnlySpan<byte> data) => data.Length > 0 && data[0] >= Boolean && data[0] <= Batch;

        /// <summary>The tag of <paramref name="type"/>'s binary form, or 0 when it travels as JSON.</summary>
        public static byte TagOf(Type type) =>
            type == typeof(long) ? Int64 : type == typeof(int) ? Int32 : type == typeof(double) ? Double
            : type == typeof(string) ? String : type == typeof(bool) ? Boolean : (byte)0;

        /// <summary>Bytes of one packed value of a fixed-width tag (0 for strings).</summary>
        public static int WidthOf(byte tag) => tag switch { Boolean => 1, Int32 => 4, Int64 => 8, Double => 8, _ => 0 };

        /// <summary>The binary form of <paramref name="value"/> when <typeparamref name="T"/> has one (the type tests fold away per instantiation).</summary>
        public static bool TryEncode<T>(T value, out byte[] data)
        {
            if (typeof(T) == typeof(long)) { data = Fixed(Int64, 8); BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(1), (long)(object)value!); return true; }
            if (typeof(T) == typeof(int)) { data = Fixed(Int32, 4); BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(1), (int)(object)value!); return true; }
            if (typeof(T) == typeof(double)) { data = Fixed(Double, 8); BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(1), BitConverter.DoubleToInt64Bits((double)(object)value!)); return true; }
            if (typeof(T) == typeof(bool)) { data = Fixed(Boolean, 1); data[1] = (bool)(object)value! ? (byte)1 : (byte)0; return true; }
            if (typeof(T) == typeof(string) && value is string text) { data = EncodeString(text); return true; }
            data = null!;
            return false;
        }

        /// <summary>The binary form of a value whose type is known only at run time (a method's result), or null when it has none.</summary>
        public static byte[]? TryEncodeBoxed(object? value) => value switch
        {
            long l => Encode(l),
            int i => Encode(i),
            double d => Encode(d),
            bool b => Encode(b),
            string s => EncodeString(s),
            _ => null,
        };

        private static byte[] Encode<T>(T value) => TryEncode(value, out var data) ? data : throw new InvalidOperationException();

        private static byte[] Fixed(byte tag, int width)
        {
            var data = new byte[1 + width];
            data[0] = tag;
            return data;
        }

        private static byte[] EncodeString(string text)
        {
            var data = new byte[1 + Encoding.UTF8.GetByteCount(text)];
            data[0] = String;
            Encoding.UTF8.GetBytes(text, 0, text.Length, data, 1);
            return data;
        }

        /// <summary>Reads a binary value as <typeparamref name="T"/> when the tag is exactly that type; false otherwise (convert through JSON then).</summary>
        public static bool TryDecode<T>(ReadOnlySpan<byte> data, out T value)
        {
            value = default!;
            if (data.Length == 0) return false;
            byte tag = data[0];
            var body = data.Slice(1);
            if (typeof(T) == typeof(long) && tag == Int64) { value = (T)(object)BinaryPrimitives.ReadInt64LittleEndian(body); return true; }
            if (typeof(T) == typeof(int) && tag == Int32) { value = (T)(object)BinaryPrimitives.ReadInt32LittleEndian(body); return true; }
            if (typeof(T) == typeof(double) && tag == Double) { value = (T)(object)BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(body)); return true; }
            if (typeof(T) == typeof(bool) && tag == Boolean) { value = (T)(object)(body[0] != 0); return true; }
            if (typeof(T) == typeof(string) && tag == String) { value = (T)(object)DecodeString(body); return true; }
            return false;
        }

        /// <summary>The value of a binary primitive, boxed, with its type; throws on anything else.</summary>
        public static object DecodeBoxed(ReadOnlySpan<byte> data)
        {
            var body = data.Slice(1);
            return data[0] switch
            {
                Int64 => BinaryPrimitives.ReadInt64LittleEndian(body),
                Int32 => BinaryPrimitives.ReadInt32LittleEndian(body),
                Double => BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(body)),
                Boolean => body[0] != 0,
                String => DecodeString(body),
                _ => throw new JsonException($"Binary value with tag {data[0]} is not a primitive."),
            };
        }

        /// <summary>Type of a primitive tag.</summary>
        public static Type TypeOf(byte tag) => tag switch
        {
            Int64 => typeof(long),
            Int32 => typeof(int),
            Double => typeof(double),
            Boolean => typeof(bool),
            String => typeof(string),
            _ => typeof(object),
        };

        /// <summary>The JSON text of a binary primitive: the way to any type other than its own (a long for a double
        /// parameter, a number for <c>object</c> or <c>JsonElement</c>), with exactly the JSON rules that applied before.</summary>
        public static byte[] ToJson(ReadOnlySpan<byte> data)
        {
            object value = DecodeBoxed(data);
            return JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), MethodJson.Options);
        }

        private static string DecodeString(ReadOnlySpan<byte> body) => body.Length == 0 ? "" : Encoding.UTF8.GetString(body.ToArray());
    }
}
