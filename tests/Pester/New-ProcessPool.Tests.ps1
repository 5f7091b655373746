BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-ProcessPoolModule
    $script:methods = Get-TestMethodsPath
    $script:pools = [System.Collections.Generic.List[object]]::new()
    function New-Tracked([hashtable] $Parameters) {
        $pool = New-ProcessPool @Parameters
        $script:pools.Add($pool)
        $pool
    }
}

AfterAll {
    foreach ($pool in $script:pools) { Remove-TestPool $pool }
}

Describe 'New-ProcessPool' {
    Context 'Size' {
        It 'starts the given number of workers' {
            $pool = New-Tracked @{ Size = 2 }
            Wait-Until { $pool.Idle -eq 2 } | Should -BeTrue
            $pool.Size | Should -Be 2
            @($pool.WorkerProcessIds).Count | Should -Be 2
        }

        It 'defaults to one worker per processor' {
            (Get-Command New-ProcessPool).Parameters['Size'].Attributes.Where({ $_ -is [System.Management.Automation.ValidateRangeAttribute] }).MinRange | Should -Be 1
            $pool = New-Tracked @{}
            $pool.Size | Should -Be ([Environment]::ProcessorCount)
        }

        It 'takes -ThrottleLimit as another name for -Size' {
            $pool = New-Tracked @{ ThrottleLimit = 1 }
            $pool.Size | Should -Be 1
        }

        It 'refuses a size below one' {
            { New-ProcessPool -Size 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,ProcessPool.Commands.NewProcessPoolCommand'
        }
    }

    Context 'Name' {
        It 'registers the pool under its name' {
            $name = 'named-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
            $pool = New-Tracked @{ Size = 1; Name = $name }
            $pool.Name | Should -Be $name
            (Get-ProcessPool -Name $name).Name | Should -Be $name
        }

        It 'names a pool without -Name automatically' {
            $pool = New-Tracked @{ Size = 1 }
            $pool.Name | Should -Match '^pool\d+$'
        }

        It 'fails with PoolNameInUse for a name a live pool has' {
            $pool = New-Tracked @{ Size = 1 }
            { New-ProcessPool -Size 1 -Name $pool.Name } | Should -Throw -ErrorId 'PoolNameInUse,ProcessPool.Commands.NewProcessPoolCommand'
        }

        It 'refuses the names of the default pools with PoolNameReserved and leaves the default pool alone' {
            $null = 1 | Invoke-PoolMap { $_ }
            $default = Get-ProcessPool -Name Default
            foreach ($name in 'Default', 'default', 'Default-3') {
                { New-ProcessPool -Size 1 -Name $name } | Should -Throw -ErrorId 'PoolNameReserved,ProcessPool.Commands.NewProcessPoolCommand'
            }
            $default.State | Should -Be 'Running'
            Get-ProcessPool -Name Default | Should -Be $default
            $pool = New-Tracked @{ Size = 1; Name = 'Default-pool-of-mine' }
            $pool.Name | Should -Be 'Default-pool-of-mine' -Because 'only Default and Default-<number> are reserved'
        }

        It 'shows name, state, size, busy and idle workers and tasks completed in its default view' {
            $pool = New-Tracked @{ Size = 1 }
            $null = 1..3 | Invoke-PoolMap -Pool $pool { $_ }
            # The counters follow the worker's end-of-chunk report, which may land just after the results.
            Wait-Until { $pool.TasksCompleted -eq 3 -and $pool.Busy -eq 0 -and $pool.Idle -eq 1 } | Should -BeTrue
            $view = ($pool | Out-String).Trim() -split "`n"
            $view[0] | Should -Match 'Name\s+State\s+Size\s+Busy\s+Idle\s+Starting\s+TasksCompleted\s+ActiveMaps'
            $view[-1] | Should -Match ([regex]::Escape($pool.Name) + '\s+Running\s+1\s+0\s+1\s+0\s+3\b')
        }
    }

    Context 'MaxTasksPerWorker' {
        It 'replaces a worker after it ran its number of items' {
            $pool = New-Tracked @{ Size = 1; MaxTasksPerWorker = 3 }
            $ids = 1..9 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { $PID }
            @($ids | Sort-Object -Unique).Count | Should -Be 3
            ($ids | Group-Object | ForEach-Object Count | Sort-Object -Unique) | Should -Be 3
            $pool.WorkersRecycled | Should -BeGreaterOrEqual 2
        }
    }

    Context 'MaxWorkerMemoryMB' {
        It 'replaces a worker whose working set passed the ceiling' {
            $pool = New-Tracked @{ Size = 1; MaxWorkerMemoryMB = 1 } # every PowerShell is bigger than 1 MB
            # Checked between chunks; a worker may already hold its next chunk (two, for chunks of a millisecond or more).
            $ids = 1..8 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { Start-Sleep -Milliseconds 20; $PID }
            @($ids | Sort-Object -Unique).Count | Should -BeGreaterOrEqual 3
            $pool.WorkersRecycled | Should -BeGreaterOrEqual 2
            $pool.MaxWorkerMemoryMB | Should -Be 1
        }
    }

    Context 'IdleTimeoutSeconds' {
        It 'lets idle workers exit and starts them again when work arrives' {
            $pool = New-Tracked @{ Size = 1; IdleTimeoutSeconds = 1 }
            $first = $pool.WorkerProcessIds
            Wait-ProcessGone $first | Should -BeNullOrEmpty
            1 | Invoke-PoolMap -Pool $pool { $PID } | Should -Not -BeIn $first
        }
    }

    Context 'ImportModule' {
        It 'imports the modules into every worker' {
            $dir = Join-Path $TestDrive 'PoolTestModule'
            $null = New-Item -ItemType Directory -Path $dir -Force
            Set-Content -LiteralPath (Join-Path $dir 'PoolTestModule.psm1') -Value 'function Get-PoolTestValue { "from module $args" }'
            $pool = New-Tracked @{ Size = 1; ImportModule = (Join-Path $dir 'PoolTestModule.psm1') }
            1 | Invoke-PoolMap -Pool $pool { Get-PoolTestValue $_ } | Should -Be 'from module 1'
        }

        It 'resolves a relative module path against the current location, not the process''s directory' {
            $dir = Join-Path $TestDrive 'Greet'
            $null = New-Item -ItemType Directory -Path $dir -Force
            Set-Content -LiteralPath (Join-Path $dir 'Greet.psm1') -Value 'function Get-Greeting { "hello $args" }'
            Push-Location $TestDrive
            try { $pool = New-Tracked @{ Size = 1; ImportModule = './Greet' } }
            finally { Pop-Location }
            1 | Invoke-PoolMap -Pool $pool { Get-Greeting $_ } | Should -Be 'hello 1'
        }

        It 'fails with PoolBroken when a module cannot be imported, and leaves no worker behind' {
            $before = @(Get-Process -Name pwsh, powershell -ErrorAction SilentlyContinue).Id
            { New-ProcessPool -Size 1 -ImportModule 'No.Such.Module.Anywhere' } | Should -Throw -ErrorId 'PoolBroken,ProcessPool.Commands.NewProcessPoolCommand'
            $new = @(Get-Process -Name pwsh, powershell -ErrorAction SilentlyContinue | Where-Object { $_.Id -notin $before -and $_.Parent.Id -eq $PID }).Id
            if ($new) { Wait-ProcessGone $new | Should -BeNullOrEmpty }
        }
    }

    Context 'Function' {
        It 'copies the named functions of the caller into every worker' {
            function Get-Doubled($x) { 2 * $x }
            $pool = New-Tracked @{ Size = 1; Function = 'Get-Doubled' }
            1..3 | Invoke-PoolMap -Pool $pool { Get-Doubled $_ } | Should -Be 2, 4, 6
        }

        It 'copies functions matching a wildcard' {
            function Use-PoolA { 'a' }
            function Use-PoolB { 'b' }
            $pool = New-Tracked @{ Size = 1; Function = 'Use-Pool*' }
            1 | Invoke-PoolMap -Pool $pool { (Use-PoolA) + (Use-PoolB) } | Should -Be 'ab'
        }

        It 'fails with PoolFunctionNotFound for a function that does not exist' {
            { New-ProcessPool -Size 1 -Function 'No-SuchFunction' } | Should -Throw -ErrorId 'PoolFunctionNotFound,ProcessPool.Commands.NewProcessPoolCommand'
        }
    }

    Context 'Variable' {
        It 'copies the named variables of the caller into every worker' {
            $settings = @{ Depth = 3; Name = 'cfg' }
            $pool = New-Tracked @{ Size = 1; Variable = 'settings' }
            1 | Invoke-PoolMap -Pool $pool { "$($settings.Name) $($settings.Depth)" } | Should -Be 'cfg 3'
        }

        It 'copies variables matching a wildcard' {
            $poolVarOne = 1; $poolVarTwo = 2
            $pool = New-Tracked @{ Size = 1; Variable = 'poolVar*' }
            1 | Invoke-PoolMap -Pool $pool { $poolVarOne + $poolVarTwo } | Should -Be 3
        }

        It 'keeps the pool''s variables for every invocation even if one changes them' {
            $counter = 10
            $pool = New-Tracked @{ Size = 1; Variable = 'counter' }
            $null = 1 | Invoke-PoolMap -Pool $pool { $global:counter = 99 }
            1 | Invoke-PoolMap -Pool $pool { $counter } | Should -Be 10
        }

        It 'fails with PoolVariableNotFound for a variable that does not exist' {
            { New-ProcessPool -Size 1 -Variable 'noSuchVariableAnywhere' } | Should -Throw -ErrorId 'PoolVariableNotFound,ProcessPool.Commands.NewProcessPoolCommand'
        }
    }

    Context 'InitializationScript and ArgumentList' {
        It 'runs the script once per worker with the arguments, and what it defines is there for every map' {
            $log = Join-Path $TestDrive 'init.log'
            $pool = New-Tracked @{ Size = 2; InitializationScript = { param($prefix, $path) Add-Content -LiteralPath $path -Value $PID; $global:greeting = "$prefix from init"; function Get-Greeting { $global:greeting } }; ArgumentList = 'hello', $log }
            Wait-Until { $pool.Idle -eq 2 } | Should -BeTrue
            1..4 | Invoke-PoolMap -Pool $pool { Get-Greeting } | Sort-Object -Unique | Should -Be 'hello from init'
            1 | Invoke-PoolMap -Pool $pool { Get-Greeting } | Should -Be 'hello from init'
            (Get-Content $log | Sort-Object) | Should -Be ($pool.WorkerProcessIds | ForEach-Object { "$_" } | Sort-Object)
        }

        It 'fails with PoolBroken when the script throws' {
            { New-ProcessPool -Size 1 -InitializationScript { throw 'cannot start' } } | Should -Throw -ErrorId 'PoolBroken,ProcessPool.Commands.NewProcessPoolCommand'
        }
    }

    Context 'AssemblyPath, InitializerMethod and InitializerArgumentList' {
        It 'calls the initializer method once in every worker with the arguments' {
            $pool = New-Tracked @{ Size = 1; AssemblyPath = $methods; InitializerMethod = 'ProcessPool.TestMethods.Payloads::Init'; InitializerArgumentList = 'marker-42' }
            1 | Invoke-PoolMap -Pool $pool -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Initialized' | Should -Be 'marker-42'
        }

        It 'resolves a relative assembly path against the current location' {
            Push-Location (Split-Path $methods)
            try { $pool = New-Tracked @{ Size = 1; AssemblyPath = "./$(Split-Path $methods -Leaf)"; InitializerMethod = 'ProcessPool.TestMethods.Payloads::Init'; InitializerArgumentList = 'relative' } }
            finally { Pop-Location }
            1 | Invoke-PoolMap -Pool $pool -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Initialized' | Should -Be 'relative'
        }

        It 'fails with PoolBroken when the initializer throws' {
            { New-ProcessPool -Size 1 -AssemblyPath $methods -InitializerMethod 'ProcessPool.TestMethods.Payloads::FailInit' -InitializerArgumentList 'no' } |
                Should -Throw -ErrorId 'PoolBroken,ProcessPool.Commands.NewProcessPoolCommand'
        }

        It 'fails with PoolMapDefinitionFailed when the assembly does not exist' {
            { New-ProcessPool -Size 1 -AssemblyPath (Join-Path $TestDrive 'none.dll') -InitializerMethod 'A.B::C' } |
                Should -Throw -ErrorId 'PoolMapDefinitionFailed,ProcessPool.Commands.NewProcessPoolCommand'
        }
    }
}
