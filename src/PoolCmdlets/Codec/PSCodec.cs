using System;
using System.Collections;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Internal;
using System.Reflection;
using System.Text;
using ProcessPool.Engine.Codec;

namespace ProcessPool.Commands.Codec
{
    /// <summary>
    /// PowerShell objects to and from the engine's tagged item format (<see cref="ItemCodec"/>): strings, primitives and
    /// file system objects take the fast path (PSObject wrappers included, when they carry nothing of their own);
    /// everything else is CliXml at the caller's depth, as remoting and jobs send it. Used on both sides of the pipe.
    /// </summary>
    internal static class PSCodec
    {
        private const string FileSystemProvider = @"Microsoft.PowerShell.Core\FileSystem::";

        /// <summary>Encodes one object; CliXml at <paramref name="depth"/> when no fast path applies.</summary>
        public static byte[] Encode(object? value, int depth)
        {
            object? plain = FastPathValue(value);
            if (plain != NotFast && ItemCodec.TryEncode(plain, out var data)) return data;
            return ItemCodec.EncodeCliXml(PSSerializer.Serialize(value, depth));
        }

        /// <summary>Decodes an object in the parent: file system objects come back as live objects for the same path.</summary>
        public static object? Decode(ArraySegment<byte> data) => ItemCodec.Decode(data, Deserialize);

        /// <summary>
        /// Decodes an item inside a worker. A file or directory gets the provider properties Get-ChildItem gives it
        /// (PSPath, PSParentPath, PSChildName, PSIsContainer), so <c>$_ | Get-Content</c> binds as it would locally.
        /// </summary>
        public static object? DecodeItem(ArraySegment<byte> data)
        {
            object? value = Decode(data);
            if (value is FileSystemInfo info)
            {
                var wrapped = PSObject.AsPSObject(info);
                string? parent = info is FileInfo file ? file.DirectoryName : (info as DirectoryInfo)?.Parent?.FullName;
                wrapped.Properties.Add(new PSNoteProperty("PSPath", FileSystemProvider + info.FullName));
                wrapped.Properties.Add(new PSNoteProperty("PSParentPath", parent == null ? "" : FileSystemProvider + parent));
                wrapped.Properties.Add(new PSNoteProperty("PSChildName", info.Name));
                wrapped.Properties.Add(new PSNoteProperty("PSIsContainer", info is DirectoryInfo));
                return wrapped;
            }
            return value;
        }

        /// <summary>
        /// CliXml text to an object (a deserialized property bag for types PowerShell cannot rehydrate). An array comes
        /// back as an array, not as the ArrayList the deserializer makes of it, so an array item stays an array.
        /// </summary>
        public static object? Deserialize(string cliXml)
        {
            object? value = PSSerializer.Deserialize(cliXml);
            if (value is PSObject pso && pso.BaseObject is ArrayList list && pso.TypeNames.Count > 0 && pso.TypeNames[0] == "Deserialized.System.Object[]")
                return list.ToArray();
            return value;
        }

        /// <summary>UTF-8 CliXml bytes of <paramref name="value"/>, for setup and payload messages.</summary>
        public static byte[] ToCliXmlBytes(object? value, int depth) => Encoding.UTF8.GetBytes(PSSerializer.Serialize(value, depth));

        /// <summary>The object serialized by <see cref="ToCliXmlBytes"/>.</summary>
        public static object? FromCliXmlBytes(byte[] data) => PSSerializer.Deserialize(Encoding.UTF8.GetString(data));

        private static readonly object NotFast = new object();

        /// <summary>
        /// The value to send by the fast path, or <see cref="NotFast"/>. A wrapper around a primitive with no members of
        /// its own is just the primitive; a file system object always goes by path (its provider properties are
        /// rebuilt by the worker); anything carrying note properties keeps them by going as CliXml.
        /// </summary>
        private static object? FastPathValue(object? value)
        {
            if (value is not PSObject pso) return value == AutomationNull.Value ? null : value;
            object baseObject = pso.BaseObject;
            if (baseObject is FileSystemInfo) return baseObject;
            if (baseObject is PSCustomObject || !ItemCodec.HasFastPath(baseObject)) return NotFast;
            return IsPlainWrapper(pso) ? baseObject : NotFast;
        }

        /// <summary>True when the wrapper adds nothing to its base object (no instance note properties).</summary>
        private static bool IsPlainWrapper(PSObject pso)
        {
            if (HasInstanceMembers != null) return !(bool)HasInstanceMembers.Invoke(null, new object?[] { pso, null });
            foreach (var _ in pso.Properties.Match("*", PSMemberTypes.NoteProperty)) return false;
            return true;
        }

        /// <summary>
        /// PowerShell's own test for members added to one object (internal, so looked up once; null where a version
        /// lacks it). Matching <c>Properties</c> instead builds every adapted and extended member of the object: about
        /// 70% of the caller's time per item when the items are numbers or strings.
        /// </summary>
        private static readonly MethodInfo? HasInstanceMembers = FindHasInstanceMembers();

        private static MethodInfo? FindHasInstanceMembers()
        {
            foreach (var method in typeof(PSObject).GetMethods(BindingFlags.NonPublic | BindingFlags.Static))
            {
                if (method.Name != "HasInstanceMembers" || method.ReturnType != typeof(bool)) continue;
                var parameters = method.GetParameters();
                if (parameters.Length == 2 && parameters[0].ParameterType == typeof(object) && parameters[1].ParameterType.IsByRef) return method;
            }
            return null;
        }
    }
}
