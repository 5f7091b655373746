using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace ProcessPool.Engine.Methods
{
    /// <summary>
    /// Lists the methods a method map can run (public static methods of public types, as <c>Namespace.Type::Method</c>)
    /// by reading the assembly's metadata: nothing is loaded into the process and the file is closed afterwards, so
    /// tab completion never locks a DLL its author is about to rebuild.
    /// </summary>
    public static class MethodCatalog
    {
        /// <summary>The runnable method names in <paramref name="assemblyPath"/>, sorted, each once (overloads collapse).</summary>
        public static IReadOnlyList<string> ListStaticMethods(string assemblyPath)
        {
            using var stream = new FileStream(assemblyPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var pe = new PEReader(stream, PEStreamOptions.PrefetchMetadata);
            if (!pe.HasMetadata) return Array.Empty<string>();
            var metadata = pe.GetMetadataReader();
            var names = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var handle in metadata.TypeDefinitions)
            {
                var type = metadata.GetTypeDefinition(handle);
                string? typeName = PublicTypeName(metadata, type);
                if (typeName == null || typeName.IndexOf('`') >= 0) continue; // open generic types cannot be named by 'Type::Method'
                foreach (var methodHandle in type.GetMethods())
                {
                    var method = metadata.GetMethodDefinition(methodHandle);
                    var attributes = method.Attributes;
                    if ((attributes & MethodAttributes.MemberAccessMask) != MethodAttributes.Public) continue;
                    if ((attributes & MethodAttributes.Static) == 0 || (attributes & MethodAttributes.SpecialName) != 0) continue;
                    if (method.GetGenericParameters().Count > 0) continue;
                    names.Add(typeName + "::" + metadata.GetString(method.Name));
                }
            }
            return names.ToList();
        }

        /// <summary>The name <see cref="Assembly.GetType(string)"/> resolves (nested types as Outer+Inner), or null when the type is not public.</summary>
        private static string? PublicTypeName(MetadataReader metadata, TypeDefinition type)
        {
            var visibility = type.Attributes & TypeAttributes.VisibilityMask;
            string name = metadata.GetString(type.Name);
            if (visibility == TypeAttributes.Public)
            {
                string ns = metadata.GetString(type.Namespace);
                return ns.Length == 0 ? name : ns + "." + name;
            }
            if (visibility == TypeAttributes.NestedPublic)
            {
                string? outer = PublicTypeName(metadata, metadata.GetTypeDefinition(type.GetDeclaringType()));
                return outer == null ? null : outer + "+" + name;
            }
            return null;
        }
    }
}
