using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Threading;

namespace ProcessPool.Engine.Methods
{
    /// <summary>
    /// Many method items in one pool item, the way <c>multiprocessing.Pool.map</c> pickles a chunk as one list: the
    /// worker calls the method once per element and answers with one batch of results. The pool then keeps one slot,
    /// one result object and one buffer per batch instead of per element, which is what lets millions of trivial items a
    /// second through. The batch is the unit of failure: an element that throws fails its whole batch (the error
    /// names the element), and a crash re-runs and blames the batch. Use it for many small items; for items that
    /// take milliseconds, or that must fail alone, submit them one by one.
    /// Layout: tag 6, element tag, count (i32), then the values packed (booleans, ints, longs, doubles) or, element
    /// tag 0, each element as a length-prefixed <see cref="MethodJson"/> item.
    /// </summary>
    public static class MethodBatch
    {
        private const int HeaderBytes = 1 + 1 + 4;

        /// <summary>Encodes <paramref name="values"/> as one batch item.</summary>
        public static byte[] Encode<T>(ReadOnlySpan<T> values)
        {
            byte tag = MethodPrimitives.TagOf(typeof(T));
            int width = MethodPrimitives.WidthOf(tag);
            if (width > 0)
            {
                var data = Header(tag, values.Length, width * values.Length);
                var span = data.AsSpan(HeaderBytes);
                for (int i = 0; i < values.Length; i++, span = span.Slice(width)) WritePacked(span, values[i]);
                return data;
            }
            var encoded = new byte[values.Length][];
            long total = 0;
            for (int i = 0; i < values.Length; i++)
            {
                encoded[i] = MethodJson.Encode(values[i]);
                total += 4 + encoded[i].Length;
            }
            if (total > int.MaxValue - HeaderBytes) throw new ArgumentException("The batch is too large to encode.", nameof(values));
            var blobs = Header(0, values.Length, (int)total);
            int offset = HeaderBytes;
            foreach (var item in encoded)
            {
                BinaryPrimitives.WriteInt32LittleEndian(blobs.AsSpan(offset), item.Length);
                Buffer.BlockCopy(item, 0, blobs, offset + 4, item.Length);
                offset += 4 + item.Length;
            }
            return blobs;
        }

        /// <summary>Encodes <paramref name="values"/> as one batch item.</summary>
        public static byte[] Encode<T>(T[] values) => Encode(new ReadOnlySpan<T>(values));

        /// <summary>Decodes a batch of results (or items).</summary>
        public static T[] Decode<T>(byte[] data)
        {
            var values = new T[new Reader(data).Count];
            DecodeInto(data, values);
            return values;
        }

        /// <summary>Decodes a batch of results (or items) into <paramref name="destination"/>; returns how many there were.</summary>
        public static int DecodeInto<T>(byte[] data, Span<T> destination)
        {
            var reader = new Reader(data);
            if (reader.Count > destination.Length) throw new ArgumentException($"The batch holds {reader.Count} values; the destination has room for {destination.Length}.", nameof(destination));
            if (reader.Width > 0 && MethodPrimitives.TagOf(typeof(T)) == reader.ElementTag)
            {
                var packed = reader.Packed;
                for (int i = 0, offset = 0; i < reader.Count; i++, offset += reader.Width) destination[i] = ReadPacked<T>(packed.Slice(offset));
            }
            else
            {
                for (int i = 0; i < reader.Count; i++) destination[i] = reader.Read<T>();
            }
            return reader.Count;
        }

        /// <summary>
        /// Maps a method over every element of <paramref name="items"/>, sent in batches of <paramref name="batchSize"/>,
        /// and returns the results in input order: <c>multiprocessing.Pool.map</c>'s shape, with no per-element call
        /// in the caller. A failed batch throws its error (a <see cref="RemoteItemException"/> naming the element).
        /// </summary>
        /// <param name="pool">The pool.</param>
        /// <param name="options">The map: its method, and ordering, timeouts, retries (per batch).</param>
        /// <param name="items">The items.</param>
        /// <param name="batchSize">Elements per batch; null takes <c>Pool.map</c>'s rule, about four batches per worker
        /// (at most <see cref="MaxDefaultBatch"/> elements each), so the pool makes few round trips.</param>
        /// <param name="cancellationToken">Stops the map.</param>
        public static TResult[] MapArray<TItem, TResult>(WorkerPool pool, MapOptions options, TItem[] items, int? batchSize = null, CancellationToken cancellationToken = default)
        {
            if (items == null) throw new ArgumentNullException(nameof(items));
            int size = batchSize ?? DefaultBatchSize(items.Length, pool.Size);
            if (size < 1) throw new ArgumentOutOfRangeException(nameof(batchSize));
            return MapArray<TItem, TResult>(pool, options, items, size, cancellationToken);
        }

        /// <summary>The most elements a batch gets by default from <see cref="MapArray{TItem, TResult}(WorkerPool, MapOptions, TItem[], int?, CancellationToken)"/>.</summary>
        public const int MaxDefaultBatch = 1 << 16;

        private static int DefaultBatchSize(int count, int workers) =>
            (int)Math.Max(1, Math.Min(MaxDefaultBatch, (count + 4L * workers - 1) / (4L * workers)));

        private static TResult[] MapArray<TItem, TResult>(WorkerPool pool, MapOptions options, TItem[] items, int batchSize, CancellationToken cancellationToken)
        {
            var results = new TResult[items.Length];
            long done = 0;
            foreach (var result in pool.Map(Slices(items, batchSize), options, cancellationToken))
            {
                if (result.Error != null) throw result.Error;
                // Placed by sequence, so ordered and unordered maps fill the same array.
                int start = checked((int)(result.Sequence * batchSize));
                foreach (var output in result.Outputs)
                {
                    int n = DecodeInto(output, new Span<TResult>(results, start, Math.Min(batchSize, items.Length - start)));
                    if (n != Math.Min(batchSize, items.Length - start)) throw new System.Text.Json.JsonException($"Batch {result.Sequence} returned {n} results for {Math.Min(batchSize, items.Length - start)} items.");
                    done += n;
                }
            }
            if (done != items.Length) throw new PoolException($"The map returned {done} results for {items.Length} items.");
            return results;
        }

        private static IEnumerable<byte[]> Slices<T>(T[] items, int batchSize)
        {
            for (int start = 0; start < items.Length; start += batchSize)
                yield return Encode(new ReadOnlySpan<T>(items, start, Math.Min(batchSize, items.Length - start)));
        }

        /// <summary>
        /// Maps a method over <paramref name="items"/> in batches of <paramref name="batchSize"/> and yields its
        /// results one by one, in input order unless <paramref name="options"/> say otherwise (then batch by batch as
        /// they complete). A failed batch throws its error (a <see cref="RemoteItemException"/> naming the element) after
        /// the results before it.
        /// </summary>
        public static IEnumerable<TResult> Map<TItem, TResult>(WorkerPool pool, MapOptions options, IEnumerable<TItem> items, int batchSize = 1024, CancellationToken cancellationToken = default)
        {
            if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize));
            foreach (var result in pool.Map(Batches(items, batchSize), options, cancellationToken))
            {
                if (result.Error != null) throw result.Error;
                foreach (var output in result.Outputs)
                    foreach (var value in Decode<TResult>(output)) yield return value;
            }
        }

        private static IEnumerable<byte[]> Batches<T>(IEnumerable<T> items, int batchSize)
        {
            var buffer = new T[batchSize];
            int n = 0;
            foreach (var item in items)
            {
                buffer[n++] = item;
                if (n == batchSize)
                {
                    yield return Encode(new ReadOnlySpan<T>(buffer));
                    n = 0;
                }
            }
            if (n > 0) yield return Encode(new ReadOnlySpan<T>(buffer, 0, n));
        }

        internal static byte[] Header(byte elementTag, int count, int payloadBytes)
        {
            var data = new byte[HeaderBytes + payloadBytes];
            data[0] = MethodPrimitives.Batch;
            data[1] = elementTag;
            BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(2), count);
            return data;
        }

        internal static void WritePacked<T>(Span<byte> span, T value)
        {
            if (typeof(T) == typeof(long)) BinaryPrimitives.WriteInt64LittleEndian(span, (long)(object)value!);
            else if (typeof(T) == typeof(int)) BinaryPrimitives.WriteInt32LittleEndian(span, (int)(object)value!);
            else if (typeof(T) == typeof(double)) BinaryPrimitives.WriteInt64LittleEndian(span, BitConverter.DoubleToInt64Bits((double)(object)value!));
            else if (typeof(T) == typeof(bool)) span[0] = (bool)(object)value! ? (byte)1 : (byte)0;
            else throw new InvalidOperationException($"{typeof(T)} has no packed form.");
        }

        internal static T ReadPacked<T>(ReadOnlySpan<byte> span)
        {
            if (typeof(T) == typeof(long)) return (T)(object)BinaryPrimitives.ReadInt64LittleEndian(span);
            if (typeof(T) == typeof(int)) return (T)(object)BinaryPrimitives.ReadInt32LittleEndian(span);
            if (typeof(T) == typeof(double)) return (T)(object)BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(span));
            if (typeof(T) == typeof(bool)) return (T)(object)(span[0] != 0);
            throw new InvalidOperationException($"{typeof(T)} has no packed form.");
        }

        /// <summary>Walks a batch's elements in order.</summary>
        internal ref struct Reader
        {
            private readonly ReadOnlySpan<byte> _data;
            private int _offset;

            public Reader(ReadOnlySpan<byte> data)
            {
                if (data.Length < HeaderBytes || data[0] != MethodPrimitives.Batch)
                    throw new System.Text.Json.JsonException("The value is not a method batch.");
                _data = data;
                ElementTag = data[1];
                Width = MethodPrimitives.WidthOf(ElementTag);
                Count = BinaryPrimitives.ReadInt32LittleEndian(data.Slice(2));
                if (ElementTag != 0 && Width == 0) throw new System.Text.Json.JsonException($"A method batch cannot pack elements with tag {ElementTag}.");
                long needed = Width > 0 ? (long)Width * Count : 4L * Count;
                if (Count < 0 || needed > data.Length - HeaderBytes) throw new System.Text.Json.JsonException("The method batch is truncated.");
                _offset = HeaderBytes;
            }

            /// <summary>0: each element is a length-prefixed item; otherwise the tag of the packed values.</summary>
            public byte ElementTag { get; }
            public int Width { get; }
            public int Count { get; }

            /// <summary>The packed values, for a typed loop.</summary>
            public ReadOnlySpan<byte> Packed => _data.Slice(HeaderBytes, Width * Count);

            /// <summary>The next element as an item in the <see cref="MethodJson"/> forms (a packed one comes back as its binary primitive).</summary>
            public ReadOnlySpan<byte> NextItem(Span<byte> scratch)
            {
                if (Width > 0)
                {
                    scratch[0] = ElementTag;
                    _data.Slice(_offset, Width).CopyTo(scratch.Slice(1));
                    _offset += Width;
                    return scratch.Slice(0, 1 + Width);
                }
                if (_offset + 4 > _data.Length) throw new System.Text.Json.JsonException("The method batch is truncated.");
                int length = BinaryPrimitives.ReadInt32LittleEndian(_data.Slice(_offset));
                if (length < 0 || length > _data.Length - _offset - 4) throw new System.Text.Json.JsonException("The method batch is truncated.");
                var item = _data.Slice(_offset + 4, length);
                _offset += 4 + length;
                return item;
            }

            public T Read<T>()
            {
                if (Width > 0 && MethodPrimitives.TagOf(typeof(T)) == ElementTag)
                {
                    var value = ReadPacked<T>(_data.Slice(_offset, Width));
                    _offset += Width;
                    return value;
                }
                var scratch = new byte[9];
                return MethodJson.Decode<T>(NextItem(scratch))!;
            }
        }
    }
}
