using System;
using System.Reflection;

namespace ProcessPool.Engine.Methods
{
    /// <summary>
    /// A one-parameter static method bound to a typed delegate (<see cref="MethodInfo.CreateDelegate(Type)"/>): no
    /// expression tree to compile at a worker's first map, and, when item and result have a binary form, a call with
    /// no boxing and, for a packed batch, no allocation per element.
    /// </summary>
    internal abstract class TypedCall
    {
        /// <summary>The typed call for <paramref name="method"/>, or null when its signature cannot have one (void, pointers, by-ref-like types).</summary>
        public static TypedCall? TryCreate(MethodInfo method)
        {
            var parameters = method.GetParameters();
            if (parameters.Length != 1 || method.ReturnType == typeof(void) || method.ContainsGenericParameters) return null;
            Type argument = parameters[0].ParameterType, result = method.ReturnType;
            if (argument.IsByRef || argument.IsPointer || result.IsByRef || result.IsPointer) return null;
            try
            {
                var type = typeof(TypedCall<,>).MakeGenericType(argument, result);
                return (TypedCall)Activator.CreateInstance(type, method)!;
            }
            catch (Exception error) when (error is ArgumentException || error is TypeLoadException || error is TargetInvocationException || error is NotSupportedException)
            {
                return null; // a by-ref-like type (Span<T>) cannot be a type argument: the compiled delegate serves it
            }
        }

        /// <summary>Calls the method with a boxed argument; returns the boxed result.</summary>
        public abstract object? CallBoxed(object? argument);

        /// <summary>A binary item of the parameter's own type, and a result type with a binary form: calls and encodes without boxing. False: not applicable.</summary>
        public abstract bool TryInvokeBinary(ReadOnlySpan<byte> item, out byte[]? result);

        /// <summary>Packed values of the parameter's own type, and a result type that packs: runs them all into one packed result batch. False: not applicable.</summary>
        public abstract bool TryInvokePacked(byte elementTag, ReadOnlySpan<byte> packed, int count, out byte[] result);
    }

    internal sealed class TypedCall<TArgument, TResult> : TypedCall
    {
        private static readonly byte ArgumentTag = MethodPrimitives.TagOf(typeof(TArgument));
        private static readonly byte ResultTag = MethodPrimitives.TagOf(typeof(TResult));
        private readonly Func<TArgument, TResult> _call;

        public TypedCall(MethodInfo method) => _call = (Func<TArgument, TResult>)method.CreateDelegate(typeof(Func<TArgument, TResult>));

        public override object? CallBoxed(object? argument) => _call((TArgument)argument!);

        public override bool TryInvokeBinary(ReadOnlySpan<byte> item, out byte[]? result)
        {
            result = null;
            if (ArgumentTag == 0 || ResultTag == 0 || item[0] != ArgumentTag || !MethodPrimitives.TryDecode(item, out TArgument argument)) return false;
            var value = _call(argument);
            // A null string has no binary form: it goes as JSON null, which decodes to null for any reference type.
            result = MethodPrimitives.TryEncode(value, out var data) ? data : System.Text.Encoding.UTF8.GetBytes("null");
            return true;
        }

        public override bool TryInvokePacked(byte elementTag, ReadOnlySpan<byte> packed, int count, out byte[] result)
        {
            result = null!;
            int width = MethodPrimitives.WidthOf(ArgumentTag), resultWidth = MethodPrimitives.WidthOf(ResultTag);
            if (width == 0 || resultWidth == 0 || elementTag != ArgumentTag) return false;
            result = MethodBatch.Header(ResultTag, count, resultWidth * count);
            var output = result.AsSpan(6);
            int i = 0;
            try
            {
                for (; i < count; i++)
                    MethodBatch.WritePacked(output.Slice(i * resultWidth), _call(MethodBatch.ReadPacked<TArgument>(packed.Slice(i * width))));
            }
            catch (Exception error)
            {
                throw new BatchElementException(i, error);
            }
            return true;
        }
    }

    /// <summary>An element of a <see cref="MethodBatch"/> threw: the runner fails the batch with the element's error, naming it.</summary>
    internal sealed class BatchElementException : Exception
    {
        public BatchElementException(int index, Exception error) : base($"Batch element {index}: {error.Message}", error) => Index = index;

        public int Index { get; }
    }
}
