using System.IO;
using ProcessPool.Engine.Methods;
using Xunit;

namespace ProcessPool.Engine.Tests
{
    public sealed class MethodCatalogTests
    {
        [Fact]
        public void ListStaticMethods_TestAssembly_ListsPublicStaticMethodsOnce()
        {
            var names = MethodCatalog.ListStaticMethods(TestHosts.MethodsDll);
            Assert.Contains("ProcessPool.TestMethods.Payloads::Double", names);
            Assert.Single(names, n => n == "ProcessPool.TestMethods.Payloads::Overloaded");
            Assert.DoesNotContain("ProcessPool.TestMethods.Payloads::Generic", names);
            Assert.DoesNotContain(names, n => n.Contains("::get_") || n.Contains("::.ctor"));
            Assert.DoesNotContain(names, n => n.StartsWith("ProcessPool.TestMethods.Instance::"));
            Assert.Equal(names, new System.Collections.Generic.SortedSet<string>(names, System.StringComparer.Ordinal));
        }

        [Fact]
        public void ListStaticMethods_LeavesTheFileFreeToReplace()
        {
            string dir = Directory.CreateTempSubdirectory("pp-catalog-").FullName;
            try
            {
                string copy = Path.Combine(dir, "Methods.dll");
                File.Copy(TestHosts.MethodsDll, copy);
                Assert.NotEmpty(MethodCatalog.ListStaticMethods(copy));
                File.Delete(copy);
                Assert.False(File.Exists(copy));
            }
            finally { Directory.Delete(dir, true); }
        }

        [Fact]
        public void ListStaticMethods_NotAnAssembly_Throws()
        {
            string path = Path.GetTempFileName();
            try
            {
                File.WriteAllText(path, "not a PE file");
                Assert.ThrowsAny<System.Exception>(() => MethodCatalog.ListStaticMethods(path));
            }
            finally { File.Delete(path); }
        }
    }
}
