BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-ProcessPoolModule
    $script:suffix = [guid]::NewGuid().ToString('N').Substring(0, 6)
    $script:first = New-ProcessPool -Size 1 -Name "get-a-$suffix"
    $script:second = New-ProcessPool -Size 1 -Name "get-b-$suffix"
}

AfterAll {
    Remove-TestPool $script:first
    Remove-TestPool $script:second
}

Describe 'Get-ProcessPool' {
    Context 'without parameters' {
        It 'returns every pool of the process' {
            $names = (Get-ProcessPool).Name
            $names | Should -Contain $first.Name
            $names | Should -Contain $second.Name
        }

        It 'labels the columns of its table view with the names of the properties they show' {
            $header = ((Get-ProcessPool -Name $first.Name | Format-Table | Out-String -Width 200).Trim() -split "`n")[0]
            $labels = -split ($header -replace '\e\[[0-9;]*m', '')
            $labels | Should -Be 'Name', 'State', 'Size', 'Busy', 'Idle', 'Starting', 'TasksCompleted', 'ActiveMaps'
            foreach ($label in $labels) { $first.PSObject.Properties.Name | Should -Contain $label }
        }

        It 'returns the same pool objects that New-ProcessPool returned' {
            Get-ProcessPool | Where-Object Name -EQ $first.Name | Should -Be $first
        }
    }

    Context 'Name' {
        It 'returns the pool with the given name' {
            (Get-ProcessPool -Name $first.Name).Name | Should -Be $first.Name
        }

        It 'accepts wildcards' {
            (Get-ProcessPool -Name "get-*-$suffix").Name | Sort-Object | Should -Be $first.Name, $second.Name
        }

        It 'takes names from the pipeline' {
            ($first.Name, $second.Name | Get-ProcessPool).Name | Should -Be $first.Name, $second.Name
        }

        It 'writes PoolNotFound for a name without wildcards that matches nothing' {
            { Get-ProcessPool -Name 'no-such-pool' -ErrorAction Stop } | Should -Throw -ErrorId 'PoolNotFound,ProcessPool.Commands.GetProcessPoolCommand'
        }

        It 'writes nothing and no error for a wildcard that matches nothing' {
            Get-ProcessPool -Name 'no-such-*' -ErrorVariable failures | Should -BeNullOrEmpty
            $failures | Should -BeNullOrEmpty
        }

        It 'shows the default pool once it was used' {
            $null = 1 | Invoke-PoolMap { $_ }
            (Get-ProcessPool -Name Default).IsDefault | Should -BeTrue
        }
    }
}
